namespace LinuxNetns.Tests.Infrastructure;

/// <summary>Observations of kernel state that tests wait for or check.</summary>
public static class KernelState
{
    /// <summary>
    /// Waits until <paramref name="condition"/> holds, up to 30 seconds. For effects the kernel applies
    /// asynchronously (a namespace is torn down on a workqueue after its last reference goes). Not a timing
    /// assertion: the bound only keeps a broken test from hanging.
    /// </summary>
    public static bool Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (condition()) return true;
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(20);
        }
    }

    /// <summary>Everything in this process that refers to the namespace with this inode: open fds and threads.</summary>
    public static List<string> ReferencesInThisProcess(ulong inode)
    {
        string link = $"net:[{inode}]";
        var found = new List<string>();
        foreach (string fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (ReadLink(fd) == link) found.Add(fd);
        }
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (ReadLink(task + "/ns/net") == link) found.Add(task);
        }
        return found;
    }

    /// <summary>True when some mount of this mount namespace is of the namespace with this inode.</summary>
    public static bool IsMounted(ulong inode) => File.ReadAllText("/proc/self/mountinfo").Contains($"net:[{inode}]");

    /// <summary>The inodes of the namespaces pinned in /run/netns (entries that cannot be read are skipped).</summary>
    public static HashSet<ulong> RunDirectoryInodes()
    {
        var result = new HashSet<ulong>();
        if (!Directory.Exists("/run/netns")) return result;
        foreach (string entry in Directory.EnumerateFileSystemEntries("/run/netns"))
        {
            try
            {
                using var ns = NetworkNamespace.OpenPath(entry);
                result.Add(ns.Id.Inode);
            }
            catch (NetworkNamespaceException)
            {
            }
        }
        return result;
    }

    private static string? ReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
