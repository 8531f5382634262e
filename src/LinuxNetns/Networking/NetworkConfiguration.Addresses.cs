using System.Globalization;
using System.Net;
using System.Net.Sockets;
using LinuxNetns.Interop;
using LinuxNetns.Netlink;

namespace LinuxNetns.Networking;

// Addresses and routes (ip addr / ip route).
public sealed partial class NetworkConfiguration
{
    // ---- addresses ----------------------------------------------------------------------------------

    /// <summary>The IPv4 and IPv6 addresses of this namespace's links (<c>ip -n NAME addr show</c>).</summary>
    /// <exception cref="NetlinkException">The kernel refused the request.</exception>
    public IReadOnlyList<LinkAddress> GetAddresses()
    {
        Dictionary<int, string> names = LinkNames();
        return RtnlReplies.Addresses(Netlink.Dump(RtnlMessages.GetAddresses, "list addresses (RTM_GETADDR dump)"), names);
    }

    /// <summary>
    /// Adds an address to a link (<c>ip addr add ADDRESS/PREFIX dev LINK</c>). An IPv6 address normally stays
    /// <see cref="AddressFlags.Tentative"/> (unusable) for a second or more while duplicate address detection runs;
    /// pass <paramref name="duplicateAddressDetection"/> false (<c>nodad</c>) to use it at once, e.g. on a veth
    /// between test namespaces.
    /// </summary>
    /// <param name="linkName">The link.</param>
    /// <param name="address">An IPv4 or IPv6 address.</param>
    /// <param name="prefixLength">0 to 32 (IPv4) or 0 to 128 (IPv6).</param>
    /// <param name="duplicateAddressDetection">False to add an IPv6 address with <c>nodad</c>; ignored for IPv4.</param>
    /// <exception cref="ArgumentOutOfRangeException">The prefix length is out of range.</exception>
    /// <exception cref="NetlinkException">No such link, the address exists (EEXIST), or the kernel refused.</exception>
    public void AddAddress(string linkName, IPAddress address, int prefixLength, bool duplicateAddressDetection = true) =>
        ChangeAddress(add: true, linkName, address, prefixLength,
            index => RtnlMessages.NewAddress(index, address, prefixLength, duplicateAddressDetection));

    /// <summary>Adds an address written as <c>ADDRESS/PREFIX</c>, e.g. <c>10.0.0.1/24</c> or <c>fd00::1/64</c>.</summary>
    /// <inheritdoc cref="AddAddress(string, IPAddress, int, bool)"/>
    /// <exception cref="FormatException">The text is not <c>ADDRESS/PREFIX</c>.</exception>
    public void AddAddress(string linkName, string addressWithPrefix, bool duplicateAddressDetection = true)
    {
        (IPAddress address, int prefix) = ParseAddressWithPrefix(addressWithPrefix);
        AddAddress(linkName, address, prefix, duplicateAddressDetection);
    }

    /// <summary>Removes an address from a link (<c>ip addr del ADDRESS/PREFIX dev LINK</c>).</summary>
    /// <exception cref="NetlinkException">No such link, or the link has no such address (EADDRNOTAVAIL).</exception>
    public void RemoveAddress(string linkName, IPAddress address, int prefixLength) =>
        ChangeAddress(add: false, linkName, address, prefixLength,
            index => RtnlMessages.DeleteAddress(index, address, prefixLength));

    /// <summary>
    /// Parses <c>ADDRESS/PREFIX</c>, as <see cref="AddAddress(string, string, bool)"/> takes it (also for callers that
    /// hold addresses as text, e.g. a test network's configuration).
    /// </summary>
    /// <exception cref="FormatException">The text is not <c>ADDRESS/PREFIX</c> with a prefix in range.</exception>
    public static (IPAddress Address, int PrefixLength) ParseAddressWithPrefix(string addressWithPrefix)
    {
        ArgumentNullException.ThrowIfNull(addressWithPrefix);
        int slash = addressWithPrefix.IndexOf('/');
        if (slash > 0
            && IPAddress.TryParse(addressWithPrefix.AsSpan(0, slash), out IPAddress? address)
            && int.TryParse(addressWithPrefix.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int prefix)
            && prefix <= MaxPrefix(address))
        {
            return (address, prefix);
        }
        throw new FormatException($"\"{addressWithPrefix}\" is not ADDRESS/PREFIX (e.g. 10.0.0.1/24 or fd00::1/64).");
    }

    private void ChangeAddress(bool add, string linkName, IPAddress address, int prefixLength, Func<int, NetlinkRequest> request)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, MaxPrefix(address));
        string verb = add ? "add" : "remove";
        int index = ResolveLink(linkName, $"{verb} address {address}/{prefixLength} on link");
        NetlinkRequest change = request(index);
        Netlink.Request(change, $"{verb} address {address}/{prefixLength} on link \"{linkName}\" ({change.TypeName})", errno => errno switch
        {
            Libc.EEXIST => $"\"{linkName}\" already has {address}.",
            Libc.EADDRNOTAVAIL => $"\"{linkName}\" has no address {address}/{prefixLength}; see GetAddresses().",
            Libc.EACCES when address.AddressFamily == AddressFamily.InterNetworkV6 => "IPv6 is disabled on this link (net.ipv6.conf.LINK.disable_ipv6).",
            _ => null,
        });
    }

    private static int MaxPrefix(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;

    // ---- routes -------------------------------------------------------------------------------------

    /// <summary>The routes of every table of this namespace (<c>ip -n NAME route show table all</c>, both families).</summary>
    /// <exception cref="NetlinkException">The kernel refused the request.</exception>
    public IReadOnlyList<NetworkRoute> GetRoutes()
    {
        Dictionary<int, string> names = LinkNames();
        return RtnlReplies.Routes(Netlink.Dump(RtnlMessages.GetRoutes, "list routes (RTM_GETROUTE dump)"), names);
    }

    /// <summary>
    /// Adds a route to the main table (<c>ip route add DEST [via GATEWAY] [dev LINK]</c>). Give a gateway, a link or
    /// both; a route with only a link is directly connected (scope link).
    /// </summary>
    /// <exception cref="ArgumentException">Neither gateway nor link given, or the families differ.</exception>
    /// <exception cref="NetlinkException">The route exists (EEXIST), the gateway is unreachable (ENETUNREACH), or the kernel refused.</exception>
    public void AddRoute(IPNetwork destination, IPAddress? gateway = null, string? linkName = null) =>
        ChangeRoute(add: true, destination, gateway, linkName);

    /// <summary>Removes a route from the main table (<c>ip route del DEST [via GATEWAY] [dev LINK]</c>).</summary>
    /// <exception cref="NetlinkException">No such route (ESRCH), or the kernel refused.</exception>
    public void RemoveRoute(IPNetwork destination, IPAddress? gateway = null, string? linkName = null) =>
        ChangeRoute(add: false, destination, gateway, linkName);

    private void ChangeRoute(bool add, IPNetwork destination, IPAddress? gateway, string? linkName)
    {
        if (add && gateway is null && linkName is null)
            throw new ArgumentException("A route needs a gateway, a link, or both.", nameof(gateway));
        if (gateway is not null && gateway.AddressFamily != destination.BaseAddress.AddressFamily)
            throw new ArgumentException($"The gateway {gateway} is not of the destination's family ({destination}).", nameof(gateway));
        int? index = linkName is null ? null : ResolveLink(linkName, $"{(add ? "add" : "remove")} route {destination} via link");

        NetlinkRequest change = add
            ? RtnlMessages.NewRoute(destination, gateway, index)
            : RtnlMessages.DeleteRoute(destination, gateway, index);
        string via = (gateway is null ? "" : $" via {gateway}") + (linkName is null ? "" : $" dev {linkName}");
        Netlink.Request(change, $"{(add ? "add" : "remove")} route {destination}{via} ({change.TypeName})", errno => errno switch
        {
            Libc.EEXIST => $"A route to {destination} exists already; remove it first.",
            Libc.ESRCH => $"No route to {destination}{via} in the main table; see GetRoutes().",
            Libc.ENETUNREACH => $"The gateway {gateway} is not on any connected network of this namespace: add an address on the link first.",
            _ => null,
        });
    }
}
