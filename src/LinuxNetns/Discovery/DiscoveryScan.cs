using System.Globalization;
using System.IO.Enumeration;
using LinuxNetns.Interop;
using LinuxNetns.Mounts;
using LinuxNetns.Netlink;
using LinuxNetns.Networking;
using LinuxNetns.Nsfs;
using LinuxNetns.Threads;

namespace LinuxNetns.Discovery;

/// <summary>
/// One run of <see cref="NamespaceDiscovery.Discover(NetworkNamespaceOptions, DiscoverySources)"/> (docs/design.md §13):
/// every <c>/proc/PID</c> once (its namespace links, threads, descriptors; the mount table of each mount namespace not seen
/// yet), then the run directory, then one open per namespace found for its nsid and owner. Everything it cannot read is
/// counted, never thrown.
/// </summary>
internal sealed class DiscoveryScan
{
    private sealed class Found(NamespaceId id)
    {
        public readonly NamespaceId Id = id;
        public readonly List<string> Names = [];
        public readonly List<int> Pids = [];
        public readonly List<DiscoveredThread> Threads = [];
        public readonly List<DiscoveredDescriptor> Descriptors = [];
        public readonly List<DiscoveredMount> Mounts = [];
    }

    private readonly NetworkNamespaceOptions _options;
    private readonly DiscoverySources _sources;
    private readonly Dictionary<NamespaceId, Found> _found = [];
    private readonly List<Found> _order = [];
    private readonly HashSet<NamespaceId> _mountNamespaces = [];
    private readonly byte[] _link = new byte[64];
    private NamespaceId? _ourMount;
    private ulong? _nsfsDevice;
    /// <summary>Descriptors of nsfs files opened by a path (a bind mount): of a net namespace, or of another type.</summary>
    private readonly List<(NamespaceId Id, DiscoveredDescriptor Descriptor)> _pathDescriptors = [];
    private int _vanished, _denied, _unrecognized, _failed, _processes;

    public DiscoveryScan(NetworkNamespaceOptions options, DiscoverySources sources)
    {
        _options = options;
        _sources = sources;
    }

    private bool Has(DiscoverySources s) => (_sources & s) != 0;

    public DiscoveryResult Run()
    {
        NamespaceId? current = NamespaceFile.TryIdOfPath("/proc/thread-self/ns/net");
        _ourMount = NamespaceFile.TryIdOfPath("/proc/thread-self/ns/mnt");
        if (current is not null) Get(current.Value);
        _nsfsDevice = current?.Device;

        if (Has(DiscoverySources.Processes | DiscoverySources.Threads | DiscoverySources.Descriptors | DiscoverySources.BindMounts))
        {
            foreach (int pid in Numbers("/proc")) ScanProcess(pid);
        }
        if (Has(DiscoverySources.RunDirectory)) ScanRunDirectory();
        ResolvePathDescriptors();

        var result = new List<DiscoveredNamespace>(_order.Count);
        NetlinkSocket? netlink = Has(DiscoverySources.Details) ? OpenNsidSocket() : null;
        try
        {
            foreach (Found f in _order)
            {
                int? nsid = null;
                NamespaceId? owner = null;
                if (Has(DiscoverySources.Details)) Details(f, netlink, out nsid, out owner);
                result.Add(new DiscoveredNamespace(f.Id, _options, f.Names, f.Pids, f.Threads, f.Descriptors, f.Mounts, nsid, owner, f.Id == current));
            }
        }
        finally
        {
            netlink?.Dispose();
        }
        return new DiscoveryResult(result, new DiscoverySkips(_vanished, _denied, _unrecognized, _failed), _processes, _mountNamespaces.Count);
    }

    private Found Get(NamespaceId id)
    {
        if (!_found.TryGetValue(id, out Found? f))
        {
            f = new Found(id);
            _found.Add(id, f);
            _order.Add(f);
        }
        return f;
    }

    private void Count(int errno)
    {
        switch (errno)
        {
            case Libc.ENOENT or Libc.ESRCH: _vanished++; break;
            case Libc.EACCES or Libc.EPERM: _denied++; break;
            case Libc.EINVAL or Libc.ENOTDIR: _unrecognized++; break;
            default: _failed++; break;
        }
    }

    /// <summary>Counts a failed entry; true when it was a denial, which every further entry of the same kind of this process
    /// would repeat: the caller stops there, so that a process it may not inspect counts once, not once per thread or descriptor.</summary>
    private bool CountAndStop(int errno)
    {
        Count(errno);
        return errno is Libc.EACCES or Libc.EPERM;
    }

    private void Count(Exception e)
    {
        switch (e)
        {
            case DirectoryNotFoundException or FileNotFoundException: _vanished++; break;
            case UnauthorizedAccessException: _denied++; break;
            // Reading a file of a process that exited meanwhile fails with ESRCH, which .NET reports as a plain IOException.
            case IOException io when (io.HResult & 0xffff) == Libc.ESRCH: _vanished++; break;
            default: _failed++; break;
        }
    }

    /// <summary>The numeric entries of a /proc directory (pids, tids, descriptors); counted and empty when it cannot be read.</summary>
    private List<int> Numbers(string directory)
    {
        var numbers = new List<int>();
        try
        {
            var entries = new FileSystemEnumerable<int>(directory,
                static (ref FileSystemEntry e) => int.TryParse(e.FileName, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : -1,
                Enumerate);
            foreach (int n in entries) if (n >= 0) numbers.Add(n);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Count(e);
        }
        return numbers;
    }

    private static readonly EnumerationOptions Enumerate = new() { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false };

    private void ScanProcess(int pid)
    {
        // Every later lookup is relative to this descriptor: if the pid is reused meanwhile, the lookups fail (ESRCH)
        // rather than describe the new process.
        using SafeFdHandle dir = Libc.Open($"/proc/{pid}", Libc.O_RDONLY | Libc.O_DIRECTORY);
        if (dir.IsInvalid)
        {
            Count(Libc.LastErrno);
            return;
        }
        _processes++;

        NamespaceId? net = null;
        if (Has(DiscoverySources.Processes | DiscoverySources.Threads))
        {
            if (Libc.StatAt(dir, "ns/net", out Libc.StatX st) == 0)
            {
                net = new NamespaceId(st.Dev, st.Ino);
                if (Has(DiscoverySources.Processes)) Get(net.Value).Pids.Add(pid);
            }
            else
            {
                Count(Libc.LastErrno);
            }
        }

        if (Has(DiscoverySources.Threads))
        {
            foreach (int tid in Numbers($"/proc/{pid}/task"))
            {
                if (tid == pid) continue;
                if (Libc.StatAt(dir, $"task/{tid}/ns/net", out Libc.StatX st) != 0)
                {
                    if (CountAndStop(Libc.LastErrno)) break;
                    continue;
                }
                var id = new NamespaceId(st.Dev, st.Ino);
                if (id != net) Get(id).Threads.Add(new DiscoveredThread(pid, tid));
            }
        }

        if (Has(DiscoverySources.Descriptors))
        {
            foreach (int fd in Numbers($"/proc/{pid}/fd"))
            {
                string entry = $"fd/{fd}";
                int length = Libc.ReadLinkAt(dir, entry, _link);
                if (length < 0)
                {
                    if (CountAndStop(Libc.LastErrno)) break;
                    continue;
                }
                // "net:[INODE]" for a descriptor opened through /proc/PID/ns/net; the path for one opened through a bind
                // mount (/run/netns/NAME); "socket:[…]", "pipe:[…]", "anon_inode:…" for what cannot be a namespace.
                ReadOnlySpan<byte> link = _link.AsSpan(0, length);
                bool netLink = link.StartsWith("net:["u8);
                if (!netLink && (link.Length == 0 || link[0] != (byte)'/')) continue;
                if (Libc.StatAt(dir, entry, out Libc.StatX st) != 0)
                {
                    Count(Libc.LastErrno);
                    continue;
                }
                var id = new NamespaceId(st.Dev, st.Ino);
                if (netLink) Get(id).Descriptors.Add(new DiscoveredDescriptor(pid, fd));
                else if (_nsfsDevice is not null && st.Dev == _nsfsDevice) _pathDescriptors.Add((id, new DiscoveredDescriptor(pid, fd)));
            }
        }

        if (Has(DiscoverySources.BindMounts))
        {
            if (Libc.StatAt(dir, "ns/mnt", out Libc.StatX st) != 0)
            {
                Count(Libc.LastErrno);
                return;
            }
            var mnt = new NamespaceId(st.Dev, st.Ino);
            if (!_mountNamespaces.Add(mnt)) return;
            if (!ScanMountTable(dir, pid, mnt)) _mountNamespaces.Remove(mnt); // another process of it may be readable
        }
    }

    /// <summary>Records the nsfs mounts of net namespaces in one mount namespace's table; false when it could not be read.</summary>
    private bool ScanMountTable(SafeFdHandle dir, int pid, NamespaceId mnt)
    {
        bool inOurs = mnt == _ourMount;
        var pending = new List<(NamespaceId Id, DiscoveredMount Mount)>();
        try
        {
            // Through the open /proc/PID directory (thread-self: right even where /proc/self names another process).
            using var reader = new StreamReader($"/proc/thread-self/fd/{dir.Fd}/mountinfo");
            while (reader.ReadLine() is { } line)
            {
                // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS"
                int separator = line.IndexOf(" - ", StringComparison.Ordinal);
                if (separator < 0)
                {
                    _unrecognized++;
                    continue;
                }
                ReadOnlySpan<char> after = line.AsSpan(separator + 3);
                if (!after.StartsWith("nsfs ")) continue;
                string[] fields = line[..separator].Split(' ');
                if (fields.Length < 5 || !TryParseNetRoot(fields[3], out ulong inode) || !TryParseDevice(fields[2], out ulong device))
                {
                    // Another namespace type bind-mounted (mnt:[…], user:[…]) is fine; anything else is odd.
                    if (fields.Length < 5 || !fields[3].Contains(":[", StringComparison.Ordinal)) _unrecognized++;
                    continue;
                }
                pending.Add((new NamespaceId(device, inode), new DiscoveredMount(MountTable.Unescape(fields[4]), mnt, pid, inOurs)));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Count(e);
            return false;
        }
        foreach ((NamespaceId id, DiscoveredMount m) in pending) Get(id).Mounts.Add(m);
        return true;
    }

    private static bool TryParseNetRoot(string root, out ulong inode)
    {
        inode = 0;
        return root.StartsWith("net:[", StringComparison.Ordinal) && root.EndsWith(']') &&
               ulong.TryParse(root.AsSpan(5, root.Length - 6), NumberStyles.None, CultureInfo.InvariantCulture, out inode);
    }

    /// <summary>mountinfo's "MAJ:MIN" as st_dev (glibc's makedev, as <see cref="Libc.StatX.Dev"/>).</summary>
    private static bool TryParseDevice(string field, out ulong device)
    {
        device = 0;
        int colon = field.IndexOf(':');
        if (colon < 0 ||
            !uint.TryParse(field.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out uint major) ||
            !uint.TryParse(field.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out uint minor)) return false;
        device = ((ulong)(major & 0x00000fffu) << 8) | ((ulong)(major & 0xfffff000u) << 32) |
                 (minor & 0x000000ffu) | ((ulong)(minor & 0xffffff00u) << 12);
        return true;
    }

    /// <summary>
    /// A descriptor of an nsfs file opened by path is a net namespace's when its identity is one found otherwise; else its
    /// type is asked of the descriptor itself (opened again through <c>/proc/PID/fd/N</c>, once per identity).
    /// </summary>
    private void ResolvePathDescriptors()
    {
        var types = new Dictionary<NamespaceId, bool>();
        foreach ((NamespaceId id, DiscoveredDescriptor d) in _pathDescriptors)
        {
            if (!_found.ContainsKey(id) && !types.ContainsKey(id))
            {
                SafeFdHandle? fd = NamespaceFile.TryOpenNetwork($"/proc/{d.ProcessId}/fd/{d.Descriptor}", out int errno);
                types[id] = fd is not null;
                fd?.Dispose();
                if (fd is null && errno != Libc.EINVAL) Count(errno);
            }
            if (_found.ContainsKey(id) || types[id]) Get(id).Descriptors.Add(d);
        }
    }

    private void ScanRunDirectory()
    {
        foreach (string name in NetworkNamespace.List(_options))
        {
            SafeFdHandle? fd = NamespaceFile.TryOpenNetwork(_options.PathOf(name), out int errno);
            if (fd is null)
            {
                Count(errno);
                continue;
            }
            using (fd)
            {
                if (Libc.FStat(fd, out Libc.StatX st) != 0)
                {
                    Count(Libc.LastErrno);
                    continue;
                }
                Get(new NamespaceId(st.Dev, st.Ino)).Names.Add(name);
            }
        }
    }

    /// <summary>A netlink socket in the caller's namespace, only when that namespace has assigned any nsid at all (else every
    /// namespace's nsid is null and no query is needed).</summary>
    private NetlinkSocket? OpenNsidSocket()
    {
        NetlinkSocket? socket = null;
        try
        {
            socket = NetlinkSocket.OpenHere("the caller's network namespace", _options.Logger);
            List<NetlinkMessage> dump = socket.Dump(() => RtnlMessages.GetNsids(), "list nsids (RTM_GETNSID dump)");
            if (dump.Exists(m => m.Type == Rtnl.RTM_NEWNSID)) return socket;
        }
        catch (NetworkNamespaceException)
        {
            _failed++;
        }
        socket?.Dispose();
        return null;
    }

    private void Details(Found f, NetlinkSocket? netlink, out int? nsid, out NamespaceId? owner)
    {
        nsid = null;
        owner = null;
        SafeFdHandle? fd = TryOpenHolder(Candidates(f), f.Id, out _, out _, out _);
        if (fd is null)
        {
            _vanished++;
            return;
        }
        using (fd)
        {
            int user = Libc.Ioctl(fd, Libc.NS_GET_USERNS);
            if (user >= 0)
            {
                using var userFd = new SafeFdHandle(user);
                if (Libc.FStat(userFd, out Libc.StatX st) == 0) owner = new NamespaceId(st.Dev, st.Ino);
                else Count(Libc.LastErrno);
            }
            else
            {
                Count(Libc.LastErrno);
            }
            if (netlink is null) return;
            try
            {
                nsid = NetworkConfiguration.QueryNsid(netlink, fd.Fd, f.Id.ToString());
            }
            catch (NetworkNamespaceException)
            {
                _failed++;
            }
        }
    }

    private IEnumerable<(string Path, string? Name, int Pid)> Candidates(Found f) =>
        new DiscoveredNamespace(f.Id, _options, f.Names, f.Pids, f.Threads, f.Descriptors, f.Mounts, null, null, false).Candidates();

    /// <summary>
    /// Opens the first holder that is still a network namespace with identity <paramref name="id"/>; null when none is,
    /// with <paramref name="tried"/> saying what each failed with.
    /// </summary>
    internal static SafeFdHandle? TryOpenHolder(IEnumerable<(string Path, string? Name, int Pid)> candidates, NamespaceId id,
        out string path, out string? name, out string tried)
    {
        var failures = new List<string>();
        foreach ((string candidate, string? candidateName, int pid) in candidates)
        {
            SafeFdHandle? fd = pid > 0 ? ProcessNamespace.TryOpen(pid, candidate, out int errno) : NamespaceFile.TryOpenNetwork(candidate, out errno);
            if (fd is null)
            {
                if (failures.Count < 4) failures.Add($"{candidate}: {(Errno)errno}");
                continue;
            }
            if (Libc.FStat(fd, out Libc.StatX st) == 0 && new NamespaceId(st.Dev, st.Ino) == id)
            {
                path = candidate;
                name = candidateName;
                tried = "";
                return fd;
            }
            fd.Dispose();
            if (failures.Count < 4) failures.Add($"{candidate}: now another namespace");
        }
        path = "";
        name = null;
        tried = failures.Count == 0 ? "no holder was recorded" : string.Join("; ", failures);
        return null;
    }
}
