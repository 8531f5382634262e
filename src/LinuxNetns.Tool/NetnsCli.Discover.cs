using System.Globalization;
using System.Text.Json;
using LinuxNetns;

namespace Netns;

// discover: an extension beyond ip netns (docs/netns-tool.md). Every network namespace on the host, with what holds it.
internal sealed partial class NetnsCli
{
    /// <summary>
    /// <c>discover</c>: one row per network namespace (table), or with <c>-j</c> a JSON array with every holder; what the
    /// scan had to skip goes to stderr as one line (table) or is left out (JSON prints only the array, as ip does).
    /// </summary>
    private int Discover(string[] args)
    {
        if (args.Length > 0) return Fail("extra arguments specified");
        DiscoveryResult found = NamespaceDiscovery.Discover(_options);
        if (_json)
        {
            Stdio.Out(DiscoverJson(found, _pretty));
            return 0;
        }

        var rows = new List<string[]> { new[] { "NS", "NSID", "USERNS", "PROCS", "THREADS", "FDS", "MOUNTS", "HOLDER" } };
        foreach (DiscoveredNamespace ns in found)
        {
            rows.Add([
                ns.Id.Inode.ToString(CultureInfo.InvariantCulture),
                ns.Nsid?.ToString(CultureInfo.InvariantCulture) ?? "-",
                ns.OwnerUserNamespace?.Inode.ToString(CultureInfo.InvariantCulture) ?? "-",
                ns.ProcessIds.Count.ToString(CultureInfo.InvariantCulture),
                ns.Threads.Count.ToString(CultureInfo.InvariantCulture),
                ns.Descriptors.Count.ToString(CultureInfo.InvariantCulture),
                ns.BindMounts.Count.ToString(CultureInfo.InvariantCulture),
                Holder(ns),
            ]);
        }
        int[] widths = new int[rows[0].Length];
        foreach (string[] row in rows)
            for (int i = 0; i < row.Length; i++) widths[i] = Math.Max(widths[i], row[i].Length);
        foreach (string[] row in rows)
        {
            var line = new System.Text.StringBuilder();
            for (int i = 0; i < row.Length; i++)
            {
                if (i == row.Length - 1) line.Append(row[i]);
                else if (i == 0) line.Append(row[i].PadRight(widths[i] + 1));
                else line.Append(row[i].PadLeft(widths[i])).Append(' ');
            }
            Out(line.ToString().TrimEnd());
        }
        DiscoverySkips s = found.Skipped;
        if (s.Total > 0)
            Error($"skipped {s.Total} entries: {s.Vanished} vanished, {s.Denied} denied, {s.Unrecognized} unrecognized, {s.Failed} failed");
        return 0;
    }

    /// <summary>What a reader most wants to see: the names, else "(current)", a mount path, a pid, a descriptor or a thread.</summary>
    private static string Holder(DiscoveredNamespace ns)
    {
        string current = ns.IsCurrent ? "(current) " : "";
        if (ns.Names.Count > 0) return current + string.Join(",", ns.Names);
        DiscoveredMount? mount = ns.BindMounts.Count > 0 ? ns.BindMounts[0] : null;
        if (mount is { } m) return current + (m.IsInCallerMountNamespace ? m.Path : $"{m.Path} (mnt:[{m.MountNamespace.Inode}] of pid {m.ProcessId})");
        if (ns.ProcessIds.Count > 0) return current + $"pid {ns.ProcessIds[0]}";
        if (ns.Descriptors.Count > 0) return current + $"pid {ns.Descriptors[0].ProcessId} fd {ns.Descriptors[0].Descriptor}";
        if (ns.Threads.Count > 0) return current + $"pid {ns.Threads[0].ProcessId} tid {ns.Threads[0].ThreadId}";
        return current.TrimEnd();
    }

    internal static string DiscoverJson(DiscoveryResult found, bool pretty)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = pretty }))
        {
            w.WriteStartArray();
            foreach (DiscoveredNamespace ns in found)
            {
                w.WriteStartObject();
                w.WriteString("ns", ns.Id.ToString());
                w.WriteNumber("inode", ns.Id.Inode);
                w.WriteNumber("dev", ns.Id.Device);
                if (ns.Nsid is int nsid) w.WriteNumber("nsid", nsid);
                if (ns.OwnerUserNamespace is { } owner) w.WriteString("userns", $"user:[{owner.Inode}]");
                w.WriteBoolean("current", ns.IsCurrent);
                w.WriteStartArray("names");
                foreach (string name in ns.Names) w.WriteStringValue(name);
                w.WriteEndArray();
                w.WriteStartArray("pids");
                foreach (int pid in ns.ProcessIds) w.WriteNumberValue(pid);
                w.WriteEndArray();
                WritePidPairs(w, "threads", "tid", ns.Threads.Select(t => (t.ProcessId, t.ThreadId)));
                WritePidPairs(w, "fds", "fd", ns.Descriptors.Select(d => (d.ProcessId, d.Descriptor)));
                w.WriteStartArray("mounts");
                foreach (DiscoveredMount m in ns.BindMounts)
                {
                    w.WriteStartObject();
                    w.WriteString("path", m.Path);
                    w.WriteString("mntns", $"mnt:[{m.MountNamespace.Inode}]");
                    w.WriteNumber("pid", m.ProcessId);
                    w.WriteBoolean("callerMountNamespace", m.IsInCallerMountNamespace);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>An array of <c>{"pid": P, "<paramref name="second"/>": N}</c> objects.</summary>
    private static void WritePidPairs(Utf8JsonWriter w, string array, string second, IEnumerable<(int Pid, int Value)> pairs)
    {
        w.WriteStartArray(array);
        foreach ((int pid, int value) in pairs)
        {
            w.WriteStartObject();
            w.WriteNumber("pid", pid);
            w.WriteNumber(second, value);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
