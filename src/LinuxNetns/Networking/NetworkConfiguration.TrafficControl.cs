using LinuxNetns.Interop;
using LinuxNetns.Netlink;

namespace LinuxNetns.Networking;

public sealed partial class NetworkConfiguration
{
    /// <summary>What <see cref="SetRateLimit"/> queues when no latency is given.</summary>
    public static readonly TimeSpan DefaultRateLimitLatency = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Limits what <paramref name="linkName"/> sends to <paramref name="bitsPerSecond"/> with a token bucket as its
    /// root qdisc, replacing the root qdisc it had (<c>tc qdisc replace dev LINK root tbf rate R burst B latency L</c>,
    /// sent over rtnetlink). It shapes the link's egress only: limit both ends of a veth pair for both directions.
    /// </summary>
    /// <param name="linkName">The link.</param>
    /// <param name="bitsPerSecond">The rate, at least 8 (one byte a second).</param>
    /// <param name="burstBytes">The bucket; default: 10 ms at the rate, and never less than two frames of the link's
    /// MTU (a frame larger than the bucket could never be sent).</param>
    /// <param name="latency">How long a packet may wait for tokens before the link drops packets instead; default
    /// <see cref="DefaultRateLimitLatency"/>. The queue holds rate × latency + burst bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException">The rate is below 8, the burst not positive, or the latency negative.</exception>
    /// <exception cref="NetlinkException">No such link, or the kernel refused (ENOENT: it has no <c>tbf</c> qdisc).</exception>
    public void SetRateLimit(string linkName, long bitsPerSecond, int? burstBytes = null, TimeSpan? latency = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bitsPerSecond, 8);
        if (burstBytes is { } b) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(b, nameof(burstBytes));
        TimeSpan wait = latency ?? DefaultRateLimitLatency;
        ArgumentOutOfRangeException.ThrowIfLessThan(wait, TimeSpan.Zero, nameof(latency));

        NetworkLink link = RequireLink(linkName, "set rate limit of link");
        ulong bytesPerSecond = (ulong)bitsPerSecond / 8;
        long frame = (link.Mtu > 0 ? link.Mtu : 1500) + 14; // an Ethernet header on top of the MTU
        uint burst = (uint)(burstBytes ?? Math.Clamp(Math.Max((long)(bytesPerSecond / 100), 2 * frame), 1, int.MaxValue));
        uint limit = (uint)Math.Clamp(bytesPerSecond * wait.TotalSeconds + burst, burst, uint.MaxValue);

        Netlink.Request(RtnlMessages.ReplaceTokenBucket(link.Index, bytesPerSecond, burst, limit),
            $"set rate limit {bitsPerSecond} bit/s (tbf, burst {burst} B, limit {limit} B) on link \"{linkName}\" (RTM_NEWQDISC)", errno => errno switch
            {
                Libc.ENOENT => "The kernel has no token-bucket qdisc (CONFIG_NET_SCH_TBF): load it with modprobe sch_tbf.",
                Libc.EINVAL => "The kernel refused these token-bucket parameters; the message names the one it rejected.",
                _ => null,
            });
    }

    /// <summary>The token-bucket rate limit that is <paramref name="linkName"/>'s root qdisc, or null when it has none
    /// (its root qdisc is another kind, or the default).</summary>
    /// <exception cref="NetlinkException">No such link, or the kernel refused the request.</exception>
    public LinkRateLimit? GetRateLimit(string linkName)
    {
        int index = ResolveLink(linkName, "get rate limit of link");
        return RootTokenBucket(index);
    }

    private LinkRateLimit? RootTokenBucket(int index) =>
        RtnlReplies.RootTokenBucket(Netlink.Dump(RtnlMessages.GetQdiscs, "list qdiscs (RTM_GETQDISC dump)"), index);

    /// <summary>
    /// Removes the token-bucket rate limit of <paramref name="linkName"/> (<c>tc qdisc del dev LINK root</c>); the link
    /// goes back to its default qdisc. Returns false, and changes nothing, when its root qdisc is not a token bucket.
    /// </summary>
    /// <exception cref="NetlinkException">No such link, or the kernel refused.</exception>
    public bool RemoveRateLimit(string linkName)
    {
        int index = ResolveLink(linkName, "remove rate limit of link");
        if (RootTokenBucket(index) is null) return false;
        Netlink.Request(RtnlMessages.DeleteRootQdisc(index), $"remove rate limit of link \"{linkName}\" (RTM_DELQDISC)");
        return true;
    }
}
