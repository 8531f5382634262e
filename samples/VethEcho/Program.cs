// VethEcho: two throwaway namespaces joined by a veth pair, a TCP echo server in one and a client in the other,
// both sockets made with CreateSocket. Prints each round trip. Needs root (CAP_SYS_ADMIN).
// Usage: VethEcho [COUNT] [--ipv6]
// Traffic stays between the two namespaces this program creates (10.200.0.0/24 or fd00:200::/64 on their veth);
// nothing is added to the host, and the kernel removes everything when the program exits, even if it is killed.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LinuxNetns;
using LinuxNetns.Networking;

int count = args.FirstOrDefault(a => !a.StartsWith("--")) is { } c ? int.Parse(c) : 5;
bool ipv6 = args.Contains("--ipv6");
(IPAddress serverAddress, IPAddress clientAddress, int prefix) = ipv6
    ? (IPAddress.Parse("fd00:200::2"), IPAddress.Parse("fd00:200::1"), 64)
    : (IPAddress.Parse("10.200.0.2"), IPAddress.Parse("10.200.0.1"), 24);

using NetworkNamespace server = NetworkNamespace.CreateTemporary();
using NetworkNamespace client = NetworkNamespace.CreateTemporary();

// One veth pair, each end created directly in its namespace: it never appears on the host.
client.Network.CreateVethPair("veth-c", server, "veth-s");
foreach ((NetworkNamespace ns, string link, IPAddress address) in new[] { (client, "veth-c", clientAddress), (server, "veth-s", serverAddress) })
{
    ns.Network.BringLoopbackUp();
    ns.Network.AddAddress(link, address, prefix, duplicateAddressDetection: false);
    ns.Network.SetLinkUp(link);
}
Console.WriteLine($"client {client.Id}: {string.Join(", ", client.Network.GetAddresses().Where(a => a.Scope == AddressScope.Global))} on veth-c");
Console.WriteLine($"server {server.Id}: {string.Join(", ", server.Network.GetAddresses().Where(a => a.Scope == AddressScope.Global))} on veth-s");

// The server: a socket made inside the server namespace, served with ordinary async code on the thread pool.
using Socket listener = server.CreateSocket(serverAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
listener.Bind(new IPEndPoint(serverAddress, 7));
listener.Listen();
Task serving = Task.Run(async () =>
{
    using Socket connection = await listener.AcceptAsync();
    byte[] buffer = new byte[1024];
    int n;
    while ((n = await connection.ReceiveAsync(buffer)) > 0) await connection.SendAsync(buffer.AsMemory(0, n));
});

// The client: a socket made inside the client namespace.
using Socket socket = client.CreateSocket(serverAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
socket.NoDelay = true;
await socket.ConnectAsync(new IPEndPoint(serverAddress, 7));
Console.WriteLine($"connected {socket.LocalEndPoint} -> {socket.RemoteEndPoint}");

var times = new List<double>();
byte[] reply = new byte[1024];
for (int i = 1; i <= count; i++)
{
    byte[] message = Encoding.ASCII.GetBytes($"echo {i}");
    long start = Stopwatch.GetTimestamp();
    await socket.SendAsync(message);
    int received = 0;
    while (received < message.Length) received += await socket.ReceiveAsync(reply.AsMemory(received));
    double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    times.Add(ms);
    Console.WriteLine($"{received} bytes from {serverAddress}: \"{Encoding.ASCII.GetString(reply, 0, received)}\" round trip {ms:F3} ms");
}
socket.Shutdown(SocketShutdown.Both);
await serving;
Console.WriteLine($"round trip min/avg/max = {times.Min():F3}/{times.Average():F3}/{times.Max():F3} ms");
