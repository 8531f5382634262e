using System.Text;
using LinuxNetns.Interop;
using LinuxNetns.Netlink;

namespace LinuxNetns.Networking;

/// <summary>
/// The network configuration of one namespace — its links, veth pairs, addresses, routes and nsids — changed and
/// read through rtnetlink as <c>ip -n NAME link / addr / route</c> and <c>ip netns set / list-id</c> do. Reached
/// as <see cref="NetworkNamespace.Network"/>.
/// </summary>
/// <remarks>
/// A view bound to its <see cref="NetworkNamespace"/>: the handle gives out the same instance for its whole life,
/// and the view owns nothing itself (no Dispose). Its requests go through the handle's netlink socket, which the
/// handle opens inside the namespace on first use and closes when it is disposed; from then on every member here
/// throws <see cref="ObjectDisposedException"/>. Safe for concurrent use: requests are serialized on that socket.
/// </remarks>
public sealed partial class NetworkConfiguration
{
    private const int IfNameMax = 15; // IFNAMSIZ - 1

    private readonly NetworkNamespace _namespace;

    internal NetworkConfiguration(NetworkNamespace owner)
    {
        _namespace = owner;
    }

    private NetlinkSocket Netlink => _namespace.Netlink;

    // ---- links --------------------------------------------------------------------------------------

    /// <summary>The links of this namespace, in index order (<c>ip -n NAME link show</c>).</summary>
    /// <exception cref="NetlinkException">The kernel refused the request.</exception>
    public IReadOnlyList<NetworkLink> GetLinks() =>
        RtnlReplies.Links(Netlink.Dump(RtnlMessages.GetLinks, "list links (RTM_GETLINK dump)"));

    /// <summary>The link named <paramref name="name"/>, or null when this namespace has none of that name.</summary>
    /// <exception cref="NetlinkException">The kernel refused the request.</exception>
    public NetworkLink? FindLink(string name)
    {
        ValidateLinkName(name);
        NetlinkRequest request = RtnlMessages.GetLink(name);
        try
        {
            return RtnlReplies.FirstLink(Netlink.Request(request, $"get link \"{name}\" (RTM_GETLINK)"));
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENODEV)
        {
            return null;
        }
    }

    /// <summary>
    /// Creates a veth pair: <paramref name="name"/> in this namespace and its peer <paramref name="peerName"/> directly
    /// in <paramref name="peerNamespace"/> (<c>ip link add NAME netns THIS type veth peer PEER netns PEER_NS</c>).
    /// Neither end ever appears in any other namespace. Both ends start down; when either namespace dies, the kernel
    /// deletes the pair.
    /// </summary>
    /// <param name="name">The end in this namespace (1 to 15 bytes, no '/', ':' or whitespace).</param>
    /// <param name="peerNamespace">Where the other end goes; may be this namespace.</param>
    /// <param name="peerName">The other end's name.</param>
    /// <exception cref="ArgumentException">A name is not a valid interface name.</exception>
    /// <exception cref="NetlinkException">The kernel refused (EEXIST: a link of that name exists; the message says where).</exception>
    public void CreateVethPair(string name, NetworkNamespace peerNamespace, string peerName)
    {
        ValidateLinkName(name);
        ValidateLinkName(peerName, nameof(peerName));
        ArgumentNullException.ThrowIfNull(peerNamespace);
        peerNamespace.WithDescriptor(peerFd =>
        {
            Netlink.Request(RtnlMessages.NewVethPair(name, peerName, peerFd), $"create veth pair \"{name}\" / \"{peerName}\" in {peerNamespace} (RTM_NEWLINK)", errno => errno switch
            {
                Libc.EEXIST => $"A link named \"{name}\" exists in \"{_namespace}\", or one named \"{peerName}\" in \"{peerNamespace}\": pick other names or delete it.",
                Libc.EOPNOTSUPP => "The kernel has no veth support (CONFIG_VETH): load the veth module (modprobe veth).",
                _ => null,
            });
            return true;
        });
    }

    /// <summary>Creates a veth pair with both ends in this namespace.</summary>
    /// <inheritdoc cref="CreateVethPair(string, NetworkNamespace, string)"/>
    public void CreateVethPair(string name, string peerName) => CreateVethPair(name, _namespace, peerName);

    /// <summary>
    /// Creates a bridge (<c>ip link add NAME type bridge</c>): a software switch that links join with
    /// <see cref="SetLinkMaster"/>. It starts down, without spanning tree, so a port forwards as soon as it is up.
    /// </summary>
    /// <param name="name">The bridge's name.</param>
    /// <param name="multicastSnooping">Whether the bridge learns multicast groups and forwards multicast only to ports
    /// that joined them (the kernel's default); false floods multicast to every port, as a plain switch does.</param>
    /// <exception cref="ArgumentException">The name is not a valid interface name.</exception>
    /// <exception cref="NetlinkException">A link of that name exists (EEXIST), or the kernel has no bridge support.</exception>
    public void CreateBridge(string name, bool multicastSnooping = true)
    {
        ValidateLinkName(name);
        Netlink.Request(RtnlMessages.NewBridge(name, multicastSnooping), $"create bridge \"{name}\" (RTM_NEWLINK)", errno => errno switch
        {
            Libc.EEXIST => $"A link named \"{name}\" exists in \"{_namespace}\": pick another name or delete it.",
            Libc.EOPNOTSUPP => "The kernel has no bridge support (CONFIG_BRIDGE): load the bridge module (modprobe bridge).",
            _ => null,
        });
    }

    /// <summary>
    /// Attaches link <paramref name="name"/> to the bridge <paramref name="masterName"/> as a port, or detaches it from
    /// its bridge when <paramref name="masterName"/> is null (<c>ip link set dev NAME master BRIDGE | nomaster</c>).
    /// </summary>
    /// <exception cref="NetlinkException">No such link or bridge, or the kernel refused (e.g. the master is no bridge).</exception>
    public void SetLinkMaster(string name, string? masterName)
    {
        int index = ResolveLink(name, "set master of link");
        int master = masterName is null ? 0 : ResolveLink(masterName, "set master of link: find master");
        string what = masterName is null ? $"detach link \"{name}\" from its master" : $"attach link \"{name}\" to \"{masterName}\"";
        Netlink.Request(RtnlMessages.SetLinkMaster(index, master), $"{what} (RTM_NEWLINK)", errno => errno switch
        {
            Libc.EOPNOTSUPP or Libc.EINVAL when masterName is not null => $"\"{masterName}\" cannot take ports: is it a bridge (CreateBridge)?",
            Libc.EBUSY => $"\"{name}\" is a port of another master: detach it first (SetLinkMaster(name, null)).",
            _ => null,
        });
    }

    /// <summary>Deletes a link (<c>ip link delete NAME</c>); deleting one end of a veth pair deletes both.</summary>
    /// <exception cref="NetlinkException">No such link (ENODEV), or the kernel refused.</exception>
    public void DeleteLink(string name)
    {
        int index = ResolveLink(name, "delete link");
        Netlink.Request(RtnlMessages.DeleteLink(index), $"delete link \"{name}\" (RTM_DELLINK)", errno => errno == Libc.EOPNOTSUPP
            ? $"\"{name}\" cannot be deleted (e.g. lo, or a physical device)."
            : null);
    }

    /// <summary>Renames a link (<c>ip link set dev NAME name NEWNAME</c>). The kernel renames only links that are down.</summary>
    /// <exception cref="NetlinkException">No such link, the new name is taken (EEXIST), or the link is up (EBUSY).</exception>
    public void RenameLink(string name, string newName)
    {
        ValidateLinkName(newName, nameof(newName));
        int index = ResolveLink(name, "rename link");
        Netlink.Request(RtnlMessages.RenameLink(index, newName), $"rename link \"{name}\" to \"{newName}\" (RTM_NEWLINK)", errno => errno switch
        {
            Libc.EBUSY => $"\"{name}\" is up: set it down first (SetLinkDown), rename, then set it up again.",
            Libc.EEXIST => $"A link named \"{newName}\" already exists in \"{_namespace}\".",
            _ => null,
        });
    }

    /// <summary>Sets a link administratively up (<c>ip link set dev NAME up</c>).</summary>
    /// <exception cref="NetlinkException">No such link, or the kernel refused.</exception>
    public void SetLinkUp(string name) => SetLinkState(name, up: true);

    /// <summary>Sets a link administratively down (<c>ip link set dev NAME down</c>).</summary>
    /// <exception cref="NetlinkException">No such link, or the kernel refused.</exception>
    public void SetLinkDown(string name) => SetLinkState(name, up: false);

    /// <summary>Sets the loopback link <c>lo</c> up, which a new namespace starts without (<c>ip link set lo up</c>).</summary>
    public void BringLoopbackUp() => SetLinkUp("lo");

    /// <summary>Sets a link's MTU (<c>ip link set dev NAME mtu MTU</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mtu"/> is not positive.</exception>
    /// <exception cref="NetlinkException">No such link, or the MTU is out of the device's range (the kernel's message says which bound).</exception>
    public void SetLinkMtu(string name, int mtu)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mtu);
        int index = ResolveLink(name, "set mtu of link");
        Netlink.Request(RtnlMessages.SetLinkMtu(index, mtu), $"set mtu {mtu} of link \"{name}\" (RTM_NEWLINK)");
    }

    /// <summary>
    /// Moves a link into <paramref name="destination"/> (<c>ip link set dev NAME netns DEST</c>), optionally renaming it
    /// on the way. It keeps nothing of its addresses and comes up down. Virtual links are deleted when the namespace
    /// they are in dies; physical ones return to the initial namespace.
    /// </summary>
    /// <exception cref="NetlinkException">No such link, a link of that name exists in <paramref name="destination"/> (EEXIST), or the link cannot move (EINVAL, e.g. lo).</exception>
    public void MoveLink(string name, NetworkNamespace destination, string? newName = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (newName is not null) ValidateLinkName(newName, nameof(newName));
        int index = ResolveLink(name, "move link");
        destination.WithDescriptor(fd =>
        {
            Netlink.Request(RtnlMessages.MoveLink(index, fd, newName), $"move link \"{name}\" to {destination} (RTM_NEWLINK)", errno => errno switch
            {
                Libc.EEXIST => $"A link named \"{newName ?? name}\" already exists in \"{destination}\": pass a new name.",
                Libc.EINVAL => $"\"{name}\" cannot change namespace (lo and some devices are bound to theirs).",
                _ => null,
            });
            return true;
        });
    }

    private void SetLinkState(string name, bool up)
    {
        string state = up ? "up" : "down";
        int index = ResolveLink(name, $"set link {state}");
        Netlink.Request(RtnlMessages.SetLinkUp(index, up), $"set link \"{name}\" {state} (RTM_NEWLINK)");
    }

    /// <summary>Link index to name, for naming the links of addresses and routes.</summary>
    private Dictionary<int, string> LinkNames() => GetLinks().ToDictionary(l => l.Index, l => l.Name);

    /// <summary>The index of the link named <paramref name="name"/>; a clear error listing the links there if none.</summary>
    private int ResolveLink(string name, string operation) => RequireLink(name, operation).Index;

    /// <summary>The link named <paramref name="name"/>; a clear error listing the links there if none.</summary>
    private NetworkLink RequireLink(string name, string operation)
    {
        ValidateLinkName(name);
        NetworkLink? link = FindLink(name);
        if (link is not null) return link;
        string existing = string.Join(", ", GetLinks().Select(l => l.Name));
        throw new NetlinkException(operation, _namespace.ToString(), Errno.ENODEV, null,
            $"{operation} \"{name}\" in \"{_namespace}\" failed: {NamespaceErrors.Describe(Errno.ENODEV)}. This namespace has no link of that name; its links are: {existing}.");
    }

    /// <summary>The kernel's dev_valid_name: 1 to 15 bytes, not "." or "..", no '/', ':' or whitespace.</summary>
    private static void ValidateLinkName(string name, string paramName = "name")
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        string? why =
            name.Length == 0 ? "it is empty" :
            Encoding.UTF8.GetByteCount(name) > IfNameMax ? $"it is longer than {IfNameMax} bytes" :
            name is "." or ".." ? "it is \".\" or \"..\"" :
            name.Any(c => c is '/' or ':' or '\0' || char.IsWhiteSpace(c)) ? "it contains '/', ':', NUL or whitespace" :
            null;
        if (why is not null)
            throw new ArgumentException($"Invalid interface name \"{name.Replace("\0", "\\0")}\": {why}. An interface name is 1 to {IfNameMax} bytes without '/', ':' or whitespace.", paramName);
    }
}
