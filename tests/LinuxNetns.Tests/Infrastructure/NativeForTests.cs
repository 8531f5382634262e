using System.Runtime.InteropServices;

namespace LinuxNetns.Tests.Infrastructure;

/// <summary>Raw syscalls that tests use to misbehave on purpose (unshare in a worker, break a restore).</summary>
internal static partial class NativeForTests
{
    public const int CLONE_NEWUTS = 0x04000000;
    public const int CLONE_NEWNET = 0x40000000;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int unshare(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setns(int fd, int nstype);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup2(int oldfd, int newfd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    public const int F_DUPFD_CLOEXEC = 1030;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup3(int oldfd, int newfd, int flags);

    public const int O_CLOEXEC = 0x80000;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc")]
    public static partial int gettid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendto(int fd, byte[] buffer, nuint length, int flags, byte[] address, uint addressLength);

    /// <summary>The identity of the calling thread's network namespace, as the kernel shows it.</summary>
    public static NamespaceId CurrentThreadNamespace()
    {
        using NetworkNamespace current = NetworkNamespace.OpenCurrentThread();
        return current.Id;
    }

    /// <summary>The descriptors of this process that refer to a network namespace (<c>net:[…]</c> links).</summary>
    public static List<int> NetNamespaceFds() =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd")
            .Select(p => (Fd: int.Parse(Path.GetFileName(p)), Target: SafeReadLink(p)))
            .Where(x => x.Target?.StartsWith("net:[") == true)
            .Select(x => x.Fd)
            .ToList();

    /// <summary>Number of threads of this process whose name starts with <paramref name="prefix"/>.</summary>
    public static int ThreadsNamed(string prefix) =>
        Directory.EnumerateDirectories("/proc/self/task").Count(t =>
        {
            try
            {
                return File.ReadAllText(t + "/comm").StartsWith(prefix, StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false;
            }
        });

    /// <summary>
    /// Number of threads of this process inside namespace <paramref name="id"/>: unlike a count of all threads, or of
    /// names (truncated to 15 bytes by the kernel), it is not moved by the runtime's own threads or another test's.
    /// </summary>
    public static int ThreadsIn(NamespaceId id) =>
        Directory.EnumerateDirectories("/proc/self/task").Count(t => SafeReadLink(t + "/ns/net") == $"net:[{id.Inode}]");

    /// <summary>Waits (bounded) until kernel thread <paramref name="tid"/> is gone: an OS thread outlives Join() by a moment.</summary>
    public static void WaitForThreadToEnd(int tid)
    {
        for (int i = 0; i < 500 && Directory.Exists($"/proc/self/task/{tid}"); i++) Thread.Sleep(10);
        Directory.Exists($"/proc/self/task/{tid}").Should().BeFalse($"thread {tid} should have ended");
    }

    private static string? SafeReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
