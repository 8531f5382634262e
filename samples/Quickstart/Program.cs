// Quickstart: the library's main verbs in one run. Needs root (CAP_SYS_ADMIN).
// All traffic stays on the loopback interface of the namespace this sample creates.
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using LinuxNetns;

string name = $"quickstart-{Environment.ProcessId}";

using (NetworkNamespace ns = NetworkNamespace.Create(name))         // ip netns add NAME
{
    Console.WriteLine($"created {ns.Name} at {ns.Path}, {ns.Id}");
    Console.WriteLine($"named namespaces: {string.Join(", ", NetworkNamespace.List())}");
    ns.Network.BringLoopbackUp();                                      // ip -n NAME link set lo up

    // 1. Enter: switch this thread, synchronously, for a few calls.
    using (ns.Enter())
    {
        string[] nics = NetworkInterface.GetAllNetworkInterfaces().Select(n => n.Name).ToArray();
        Console.WriteLine($"Enter: interfaces inside: {string.Join(", ", nics)}");
    }

    // 2. Run: code on a library-owned thread inside the namespace; this thread never switches.
    NamespaceId seen = ns.Run(() =>
    {
        using NetworkNamespace current = NetworkNamespace.OpenCurrentThread();
        return current.Id;
    });
    Console.WriteLine($"Run: the worker thread is in {seen}");

    // 3. CreateSocket: sockets that live in the namespace, used with async code from any thread.
    using Socket listener = ns.CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    listener.Listen();
    var endpoint = (IPEndPoint)listener.LocalEndPoint!;
    Task<Socket> accepting = listener.AcceptAsync();

    using Socket client = ns.CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    await client.ConnectAsync(endpoint);
    using Socket server = await accepting;
    await client.SendAsync(Encoding.UTF8.GetBytes("hello, namespace"));
    byte[] buffer = new byte[64];
    int n = await server.ReceiveAsync(buffer);
    Console.WriteLine($"CreateSocket: {endpoint} inside {name} received \"{Encoding.UTF8.GetString(buffer, 0, n)}\"");
}

NetworkNamespace.Delete(name);                                        // ip netns delete NAME
Console.WriteLine($"deleted {name}; threads left in other namespaces: {NamespaceDiagnostics.FindStrayThreads().Count}");
