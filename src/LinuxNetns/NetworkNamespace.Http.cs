using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using LinuxNetns.Threads;

namespace LinuxNetns;

// HTTP as `ip netns exec curl` would see it: names resolved inside, connections made inside.
public sealed partial class NetworkNamespace
{
    private readonly LazySlot<WorkerSlot> _resolver = new();

    /// <summary>
    /// A <see cref="SocketsHttpHandler"/> whose connections are made inside this namespace and whose host names are
    /// resolved inside it, as a program started by <c>ip netns exec</c> would resolve them: with this namespace's
    /// network and the <c>/etc/netns/NAME/hosts</c> and <c>resolv.conf</c> (for a handle opened by name) over the
    /// host's. So <c>new HttpClient(ns.CreateHttpMessageHandler())</c> just works, from any thread.
    /// </summary>
    /// <remarks>
    /// Each new connection resolves its host with the synchronous resolver (glibc's <c>getaddrinfo</c>) on a worker
    /// thread of this namespace with exec-like mounts (<see cref="WorkerMounts.LikeExec"/>), which a pool thread waits
    /// for, as .NET's own resolver blocks a pool thread: resolutions of one namespace run one at a time. It then tries
    /// the addresses in order with a socket made inside. No proxy is used (the host's proxy settings describe the host's
    /// network); set <see cref="SocketsHttpHandler.Proxy"/> and <c>UseProxy</c> for one that is reachable inside.
    /// Requests fail with <see cref="ObjectDisposedException"/> once this handle is disposed.
    /// </remarks>
    public HttpMessageHandler CreateHttpMessageHandler()
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        return new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, cancellationToken),
        };
    }

    private async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        IPAddress[] addresses = IPAddress.TryParse(endPoint.Host, out IPAddress? literal)
            ? [literal]
            : await Task.Run(() => Resolve(endPoint.Host, endPoint.AddressFamily), cancellationToken).ConfigureAwait(false);
        Exception? last = null;
        foreach (IPAddress address in addresses)
        {
            Socket socket = CreateSocket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.NoDelay = true;
                await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception e) when (e is SocketException && !cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>Resolves <paramref name="host"/> on this namespace's worker with exec-like mounts.</summary>
    internal IPAddress[] Resolve(string host, AddressFamily family)
    {
        ThrowIfNotEnterable($"Resolving \"{host}\" inside the namespace (CreateHttpMessageHandler; a URL with an IP address needs no resolution)");
        var item = new LibraryWorkItem<IPAddress[]>(() => Dns.GetHostAddresses(host, family));
        ExecuteOn(ExecLikeWorker(), item);
        item.ThrowIfFailed();
        return item.Result!;
    }

    /// <summary>A worker with <see cref="WorkerMounts.LikeExec"/>: the handle's own when it has that option, else one made for it.</summary>
    private WorkerSlot ExecLikeWorker()
    {
        if (_prepareMounts is not null) return _worker;
        return _resolver.GetOrMake(static ns => new WorkerSlot(ns._threadName + "^", ns.Name ?? ns.Path, spin: false, prepareMounts: ns.PrepareWorkerMounts), this)
            ?? throw Disposed();
    }

    private void CloseResolver() => _resolver.Close()?.Close();
}
