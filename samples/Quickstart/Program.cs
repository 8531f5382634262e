// Quickstart: the library's main verbs in one run. Needs root (CAP_SYS_ADMIN).
using System.Net;
using System.Net.Sockets;
using LinuxNetns;

string name = $"quickstart-{Environment.ProcessId}";

using (NetworkNamespace ns = NetworkNamespace.Create(name))        // ip netns add
{
    Console.WriteLine($"created {ns.Name} at {ns.Path}, id {ns.Id}");
    Console.WriteLine($"ip netns list would show: {string.Join(", ", NetworkNamespace.List())}");

    // 1. Enter: switch this thread, synchronously, for a few calls.
    using (ns.Enter())
    {
        Console.WriteLine($"inside: /sys-independent view of interfaces: {string.Join(", ", System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces().Select(i => i.Name))}");
    }

    // 2. Run: code on a library-owned thread inside the namespace; this thread never switches.
    NamespaceId inside = ns.Run(() => NetworkNamespace.OpenCurrentThread().Id);
    Console.WriteLine($"Run saw namespace {inside}");

    // 3. CreateSocket: a socket that lives in the namespace, used with async code from any thread.
    using Socket listener = ns.CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    try
    {
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Console.WriteLine("bound 127.0.0.1 inside the namespace (its loopback is down until brought up)");
    }
    catch (SocketException e)
    {
        Console.WriteLine($"bind inside the namespace failed as expected while lo is down: {e.SocketErrorCode}");
    }
}

NetworkNamespace.Delete(name);                                       // ip netns delete
Console.WriteLine($"deleted {name}; strays: {string.Join(", ", NamespaceDiagnostics.FindStrayThreads())}");
