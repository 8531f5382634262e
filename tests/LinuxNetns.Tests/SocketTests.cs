using System.Net;
using System.Net.Sockets;
using System.Text;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>ns.CreateSocket: sockets that live in a namespace and are used from any thread, async included.
/// All traffic stays on the loopback of a namespace the test created.</summary>
public sealed class SocketTests : NamespaceTest
{
    [RootFact]
    public async Task A_listener_in_the_namespace_is_reached_only_from_inside_it()
    {
        string name = NewName("sock");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            (Socket listener, int port) = ListenOnLoopback(ns, name);
            using Socket listening = listener;

            // The same address and port are free in the host namespace: the listener is not there.
            using (var host = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                host.Bind(new IPEndPoint(IPAddress.Loopback, port));
            }

            using Socket client = ns.CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            Task<Socket> accepting = listener.AcceptAsync();
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            using Socket server = await accepting.WaitAsync(TimeSpan.FromSeconds(10));

            // The receive is pending before anything is sent, so it completes asynchronously, on the sockets engine's
            // dispatch to the thread pool: a pool thread that was never switched, using a socket of the namespace.
            byte[] buffer = new byte[4];
            Task<(int Received, bool OnPool, NamespaceId ThreadNamespace)> receiving = ReceiveAndObserveAsync(server, buffer);
            await client.SendAsync(Encoding.ASCII.GetBytes("ping"));
            var (received, onPool, threadNamespace) = await receiving.WaitAsync(TimeSpan.FromSeconds(10));
            Encoding.ASCII.GetString(buffer, 0, received).Should().Be("ping");
            onPool.Should().BeTrue();
            threadNamespace.Should().Be(NamespaceDiagnostics.HomeNamespace);
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public async Task HttpClient_talks_inside_the_namespace_through_a_ConnectCallback()
    {
        string name = NewName("http");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            (Socket listener, int port) = ListenOnLoopback(ns, name);
            using Socket listening = listener;
            Task serving = ServeOneHttpResponseAsync(listener, "hello from " + name);

            using var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (context, token) =>
                {
                    Socket socket = ns.CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    try
                    {
                        await socket.ConnectAsync(context.DnsEndPoint, token);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            };
            using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
            string body = await http.GetStringAsync($"http://127.0.0.1:{port}/");
            body.Should().Be("hello from " + name);
            await serving.WaitAsync(TimeSpan.FromSeconds(10));
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void Creating_sockets_starts_no_runtime_thread_inside_the_namespace()
    {
        string name = NewName("sockthreads");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            using Socket udp = ns.CreateSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            using Socket tcp6 = ns.CreateSocket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            NamespaceDiagnostics.FindStrayThreads().Should().OnlyContain(t => t.Name.StartsWith("netns:"),
                "only the library's own worker lives in the namespace while the handle is open");
        }
        NetworkNamespace.Delete(name);
    }

    /// <summary>Brings the namespace's lo up (with the real ip) and listens on 127.0.0.1 inside it, on a free port.</summary>
    private static (Socket Listener, int Port) ListenOnLoopback(NetworkNamespace ns, string name)
    {
        Shell.Ip("-n", name, "link", "set", "lo", "up").EnsureSuccess();
        Socket listener = ns.CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        return (listener, ((IPEndPoint)listener.LocalEndPoint!).Port);
    }

    private static async Task<(int, bool, NamespaceId)> ReceiveAndObserveAsync(Socket socket, byte[] buffer)
    {
        int n = await socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
        return (n, Thread.CurrentThread.IsThreadPoolThread, NativeForTests.CurrentThreadNamespace());
    }

    private static async Task ServeOneHttpResponseAsync(Socket listener, string body)
    {
        using Socket connection = await listener.AcceptAsync();
        byte[] buffer = new byte[4096];
        var request = new StringBuilder();
        while (!request.ToString().Contains("\r\n\r\n"))
        {
            int n = await connection.ReceiveAsync(buffer);
            if (n == 0) return;
            request.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        string response = $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
        await connection.SendAsync(Encoding.ASCII.GetBytes(response));
        connection.Shutdown(SocketShutdown.Send);
    }
}
