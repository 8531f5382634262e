namespace LinuxNetns.Interop;

// What NamespaceDiscovery needs: lookups relative to an open /proc/PID directory (so that every answer is about the
// process that directory was opened for, even if its pid is reused meanwhile) and the owning user namespace.
internal static unsafe partial class Libc
{
    // ioctl_ns(2): _IO(0xb7, 0x1). Returns a new descriptor (the kernel sets O_CLOEXEC on it).
    public const nuint NS_GET_USERNS = 0xb701;

    /// <summary>statx(2) of <paramref name="relative"/> under the open directory <paramref name="dir"/>, following links.</summary>
    public static int StatAt(SafeFdHandle dir, string relative, out StatX result) => StatAt(dir, relative, 0, out result);

    /// <summary>readlinkat(2) of <paramref name="relative"/> under <paramref name="dir"/> into <paramref name="buffer"/>: the length, or -1 with errno.</summary>
    public static int ReadLinkAt(SafeFdHandle dir, string relative, Span<byte> buffer)
    {
        using var p = new Utf8Path(relative);
        fixed (byte* b = buffer)
        {
            return (int)ReadlinkatImport(dir, p.Pointer, b, (nuint)buffer.Length);
        }
    }
}
