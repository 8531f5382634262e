using LinuxNetns.Netlink;
using LinuxNetns.Networking;

namespace LinuxNetns;

// The rtnetlink socket of this namespace, and the view that configures its network through it.
public sealed partial class NetworkNamespace
{
    private NetlinkSocket? _netlink;
    private int _netlinkDisposed;

    /// <summary>
    /// This namespace's links, veth pairs, addresses, routes and nsids (<c>ip -n NAME link / addr / route</c>,
    /// <c>ip netns set / list-id</c>).
    /// </summary>
    /// <remarks>
    /// The same view for the handle's whole life; it owns nothing and needs no disposing. Once this handle is
    /// disposed, each of its operations throws <see cref="ObjectDisposedException"/>.
    /// </remarks>
    public NetworkConfiguration Network { get; }

    /// <summary>This namespace's rtnetlink socket, created inside it on first use and closed by <see cref="Dispose"/>.</summary>
    /// <remarks>
    /// No lock is held while the socket is opened: opening may hand work to this namespace's worker, and an item
    /// already running there may itself ask for the socket. Two first uses may both open one; the loser closes its own.
    /// </remarks>
    internal NetlinkSocket Netlink
    {
        get
        {
            NetlinkSocket? socket = Volatile.Read(ref _netlink);
            if (socket is not null) return socket;
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _netlinkDisposed) != 0 || _fd.IsClosed, this);
            NetlinkSocket opened = NetlinkSocket.OpenIn(this);
            NetlinkSocket? winner = Interlocked.CompareExchange(ref _netlink, opened, null);
            if (winner is not null)
            {
                opened.Dispose();
                return winner;
            }
            // Dispose sets its flag before taking the socket out, and we read the flag after putting ours in: either
            // Dispose finds our socket and closes it, or we see the flag here and take it back out ourselves.
            if (Volatile.Read(ref _netlinkDisposed) != 0)
            {
                Interlocked.Exchange(ref _netlink, null)?.Dispose();
                ObjectDisposedException.ThrowIf(true, this);
            }
            return opened;
        }
    }

    private void DisposeNetlink()
    {
        Interlocked.Exchange(ref _netlinkDisposed, 1);
        Interlocked.Exchange(ref _netlink, null)?.Dispose();
    }

    /// <summary>Runs <paramref name="use"/> with this namespace's descriptor kept open for the kernel to resolve
    /// (e.g. as the peer of a veth pair or the destination of a link).</summary>
    internal T WithDescriptor<T>(Func<int, T> use)
    {
        bool added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            return use(_fd.Fd);
        }
        finally
        {
            if (added) _fd.DangerousRelease();
        }
    }
}
