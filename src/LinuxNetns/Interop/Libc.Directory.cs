using System.Runtime.InteropServices;
using System.Text;

namespace LinuxNetns.Interop;

// Reading a directory with getdents64(2) itself: the run directory is listed by every `list`, and the runtime's
// enumerator costs a short process more than the listing (its pooled buffers, interface dispatch, safe handles).
internal static unsafe partial class Libc
{
    [LibraryImport(LibraryName, EntryPoint = "getdents64", SetLastError = true)]
    private static partial nint GetDents64Import(SafeFdHandle fd, byte* buffer, nuint count);

    /// <summary>
    /// The names in directory <paramref name="path"/>, in readdir order, "." and ".." left out (every other name,
    /// hidden ones included); null, with <paramref name="errno"/>, when it cannot be opened or read.
    /// </summary>
    public static List<string>? ReadDirectoryNames(string path, out int errno)
    {
        using SafeFdHandle dir = Open(path, O_RDONLY | O_DIRECTORY);
        if (dir.IsInvalid)
        {
            errno = LastErrno;
            return null;
        }
        var names = new List<string>();
        byte* buffer = stackalloc byte[8192];
        while (true)
        {
            nint n = GetDents64Import(dir, buffer, 8192);
            if (n < 0)
            {
                errno = LastErrno;
                if (errno == EINTR) continue;
                return null;
            }
            if (n == 0) break;
            // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated).
            for (nint at = 0; at < n; at += *(ushort*)(buffer + at + 16))
            {
                var name = new ReadOnlySpan<byte>(buffer + at + 19, *(ushort*)(buffer + at + 16) - 19);
                name = name[..name.IndexOf((byte)0)];
                if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8)) continue;
                names.Add(Encoding.UTF8.GetString(name));
            }
        }
        errno = 0;
        return names;
    }
}
