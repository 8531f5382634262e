using LinuxNetns;
using LinuxNetns.Networking;

namespace Netns;

// set, list-id and the ids of list: nsids over rtnetlink, through the library (RTM_GETNSID / RTM_NEWNSID).
internal sealed partial class NetnsCli
{
    // iproute2 returns -2 when the kernel refuses a netlink request: exit 2.
    private const int NetlinkFailure = 2;

    /// <summary>The namespace the tool runs in: the one whose nsids list, set and list-id show and change.</summary>
    private static NetworkNamespace OpenSelf() => NetworkNamespace.OpenPath("/proc/self/ns/net");

    /// <summary>The nsid, in this process's namespace, of each of <paramref name="names"/> (null where it has none).</summary>
    private int?[] NsidsOf(IReadOnlyList<string> names)
    {
        var ids = new int?[names.Count];
        if (names.Count == 0) return ids;
        using NetworkNamespace self = OpenSelf();
        for (int i = 0; i < names.Count; i++) ids[i] = TryGetNsid(self, names[i]);
        return ids;
    }

    private int? TryGetNsid(NetworkNamespace self, string name)
    {
        try
        {
            using NetworkNamespace peer = NetworkNamespace.Open(name, _options);
            return self.Network.GetNsid(peer);
        }
        catch (Exception e) when (e is NetworkNamespaceException or ArgumentException)
        {
            // A name that is no namespace (a stale placeholder) has no id; iproute2 prints the kernel's refusal too.
            return null;
        }
    }

    /// <summary><c>set NAME NSID|auto</c>.</summary>
    private int Set(string[] args)
    {
        if (args.Length < 1) return Fail("No netns name specified");
        if (args.Length < 2) return Fail("No nsid specified");
        string name = args[0];
        int? nsid = null;
        if (args[1] != "auto")
        {
            if (!IpSyntax.TryParseInt(args[1], out int value)) throw InvalidArgument("Invalid \"netnsid\" value", args[1]);
            if (value < 0) throw InvalidArgument("\"netnsid\" value should be >= 0", args[1]);
            nsid = value;
        }

        NetworkNamespace peer;
        try
        {
            peer = NetworkNamespace.Open(name, _options);
        }
        catch (NotANetworkNamespaceException)
        {
            // The file exists but is no namespace: the kernel refuses its descriptor, in these words.
            Error("Error: Peer netns reference is invalid.");
            return NetlinkFailure;
        }
        catch (NetworkNamespaceException e)
        {
            return Fail($"Cannot open network namespace \"{name}\": {StrError(e)}");
        }
        using (peer)
        using (NetworkNamespace self = OpenSelf())
        {
            try
            {
                self.Network.SetNsid(peer, nsid);
                return 0;
            }
            catch (NetlinkException e)
            {
                return NetlinkError(e);
            }
        }
    }

    /// <summary><c>list-id [target-nsid N] [nsid N]</c>.</summary>
    private int ListId(string[] args)
    {
        int target = -1, nsid = -1;
        for (int i = 0; i < args.Length; i++)
        {
            string key = args[i];
            if (key is not ("target-nsid" or "nsid")) throw Help();
            if ((key == "nsid" ? nsid : target) >= 0) throw DuplicateArgument(key, key);
            if (++i >= args.Length) throw Usage();
            if (!IpSyntax.TryParseInt(args[i], out int value)) throw InvalidArgument($"\"{key}\" value is invalid", args[i]);
            // iproute2 names the word after the value here (its argv[1]): "(null)" when there is none.
            if (value < 0) throw InvalidArgument($"\"{key}\" value should be >= 0", i + 1 < args.Length ? args[i + 1] : null);
            if (key == "nsid") nsid = value;
            else target = value;
        }

        using NetworkNamespace self = OpenSelf();
        IReadOnlyList<NsidEntry> entries;
        try
        {
            entries = nsid >= 0 ? [self.Network.LookupNsid(nsid, target >= 0 ? target : null)]
                : target >= 0 ? self.Network.ListNsids(target)
                : self.Network.ListNsids();
        }
        catch (NetlinkException e)
        {
            // One nsid is a plain request in iproute2 (exit 2); the listing is a dump, whose failure ends it with exit 1.
            if (nsid >= 0) return NetlinkError(e);
            NetlinkError(e);
            Error("Dump terminated");
            throw new ExitException(Failure); // exit(1) in ip: it ends a batch
        }

        // iproute2 names each nsid from a map of the run directory's names (first name per nsid), and uses up a
        // name once printed; an nsid not in the map is looked up again by a scan of the directory.
        IReadOnlyList<string> names = NetworkNamespace.List(_options);
        var byNsid = new Dictionary<int, string>();
        var idOfName = new List<(string Name, int Id)>();
        foreach (string name in names)
        {
            if (TryGetNsid(self, name) is not int id) continue;
            idOfName.Add((name, id));
            byNsid.TryAdd(id, name);
        }

        var json = _json ? new IpJson(_pretty) : null;
        foreach (NsidEntry entry in entries)
        {
            int key = target >= 0 ? entry.CurrentNsid ?? -1 : entry.Nsid;
            string? name = null;
            if (key >= 0 && byNsid.Remove(key, out string? mapped))
            {
                name = mapped;
            }
            else
            {
                foreach ((string n, int id) in idOfName)
                {
                    if (id != entry.Nsid) continue;
                    name = n;
                    byNsid.TryAdd(entry.Nsid, n);
                    break;
                }
            }

            if (json is not null)
            {
                json.Object();
                if (entry.Nsid >= 0) json.Field("nsid", entry.Nsid);
                if (target >= 0 && entry.CurrentNsid is int current) json.Field("current-nsid", current);
                if (name is not null) json.Field("name", name);
                continue;
            }
            var line = new System.Text.StringBuilder();
            line.Append(entry.Nsid < 0 ? "nsid unassigned " : $"nsid {entry.Nsid} ");
            if (target >= 0) line.Append(entry.CurrentNsid is int c ? $"current-nsid {c} " : "current-nsid unassigned ");
            if (name is not null) line.Append($"(iproute2 netns name: {name})");
            Out(line.ToString());
        }
        if (json is not null) Stdio.Out(json.ToString());
        return 0;
    }

    /// <summary>iproute2's report of a refused netlink request: the kernel's extended-ACK text, else errno.</summary>
    private static int NetlinkError(NetlinkException e)
    {
        string? message = e.KernelMessage;
        if (!string.IsNullOrEmpty(message)) Error($"Error: {message}{(message.EndsWith('.') ? "" : ".")}");
        else Error($"RTNETLINK answers: {StrError(e.Errno)}");
        return NetlinkFailure;
    }
}
