using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LinuxNetns.Interop;

// capget and access, for ExecInNamespace's checks before anything starts (at home). What its switched windows call is
// in SwitchedCalls.
internal static unsafe partial class Libc
{
    // capget(2)
    private const uint LINUX_CAPABILITY_VERSION_3 = 0x20080522;
    public const int CAP_SYS_ADMIN = 21;

    // access(2)
    public const int X_OK = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapData
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }

    [LibraryImport(LibraryName, EntryPoint = "capget", SetLastError = true)]
    private static partial int CapgetImport(CapHeader* header, CapData* data);

    [LibraryImport(LibraryName, EntryPoint = "access", SetLastError = true)]
    private static partial int AccessImport(byte* path, int mode);

    /// <summary>
    /// True when the calling thread has <paramref name="capability"/> in its effective set (capget(2), version 3);
    /// null when the kernel would not say.
    /// </summary>
    public static bool? HasEffectiveCapability(int capability)
    {
        CapHeader header = new() { Version = LINUX_CAPABILITY_VERSION_3, Pid = 0 };
        CapData* data = stackalloc CapData[2];
        if (CapgetImport(&header, data) != 0) return null;
        uint word = capability < 32 ? data[0].Effective : data[1].Effective;
        return (word & (1u << (capability % 32))) != 0;
    }

    /// <summary>access(2); 0 when allowed, -1 with errno otherwise.</summary>
    public static int Access(string path, int mode)
    {
        using var p = new Utf8Path(path);
        return AccessImport(p.Pointer, mode);
    }
}
