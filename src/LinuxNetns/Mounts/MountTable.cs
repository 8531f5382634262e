using LinuxNetns.Nsfs;

namespace LinuxNetns.Mounts;

/// <summary>Reads <c>/proc/PID/mountinfo</c>, for diagnostics only.</summary>
internal static class MountTable
{
    /// <summary>
    /// True when some other mount namespace that we can see (through a process in it) has a mount at
    /// <paramref name="path"/>. Diagnostics only: scans <c>/proc/*/ns/mnt</c>, one process per namespace.
    /// </summary>
    public static bool IsMountedInAnotherMountNamespace(string path)
    {
        NamespaceId? ours = NamespaceFile.TryIdOfPath("/proc/thread-self/ns/mnt");
        var seen = new HashSet<NamespaceId>();
        if (ours is not null) seen.Add(ours.Value);
        foreach (string process in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(process), out _)) continue;
            NamespaceId? mnt = NamespaceFile.TryIdOfPath(process + "/ns/mnt");
            if (mnt is null || !seen.Add(mnt.Value)) continue;
            try
            {
                if (MountPoints(process + "/mountinfo").Contains(path)) return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended, or we may not read it: skip it.
            }
        }
        return false;
    }

    /// <summary>The mount points (5th field, octal escapes decoded) of a mountinfo file.</summary>
    public static HashSet<string> MountPoints(string mountinfo)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(mountinfo))
        {
            string[] fields = line.Split(' ');
            if (fields.Length > 4) result.Add(Unescape(fields[4]));
        }
        return result;
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as \ooo.</summary>
    public static string Unescape(string field)
    {
        if (!field.Contains('\\')) return field;
        var sb = new System.Text.StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1) && IsOctal(field, i + 2) && IsOctal(field, i + 3))
            {
                sb.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(field[i]);
            }
        }
        return sb.ToString();
    }

    private static bool IsOctal(string s, int i) => i < s.Length && s[i] >= '0' && s[i] <= '7';
}
