// TestNetwork: the kind of network an integration test needs, built with LinuxNetns.Testing in one statement — an office
// LAN (a switch with two hosts and a gateway router), a shaped uplink from the gateway to a second router, and a server
// behind that. Shows UDP across the LAN, TCP through both routers, the routes the builder added, and the uplink's rate
// limit at work. Runs as root, or without root: then the builder puts the network in a user namespace of its own, held
// by a helper process (docs/rootless.md), and the same code works unchanged.
// Usage: TestNetwork [UPLINK_MBIT]   (default 2)
// Traffic stays between the namespaces this program creates (10.198.x and 10.199.x inside them); nothing is added to
// the host, and the kernel removes everything when the program exits, even if it is killed.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LinuxNetns.Networking;
using LinuxNetns.Testing;

long uplink = (args.Length > 0 ? long.Parse(args[0]) : 2) * 1_000_000;

await using VirtualNetwork net = new VirtualNetworkBuilder()
    .AddSwitch("office").AddHost("alice").AddHost("bob").AddRouter("gw")
    .AddRouter("isp").AddHost("server")
    .Connect("alice", "office").Connect("bob", "office").Connect("gw", "office") // 10.198.0.1, .2, .3
    .Connect("gw", "isp")                                                          // 10.199.0.1 — .2
    .Connect("isp", "server")                                                      // 10.199.1.1 — .2
    .LimitRate("gw", "isp", uplink)
    .WithoutIPv6()
    .Build();

Console.WriteLine(net.InUserNamespace ? "built without root, in a user namespace of its own" : "built as root");
foreach (VirtualHost node in net.Hosts)
{
    string addresses = string.Join(", ", node.Interfaces.SelectMany(i => i.Addresses.Select(a => $"{i.Name} {a.Address}/{a.PrefixLength}")));
    Console.WriteLine($"{node.Kind.ToString().ToLowerInvariant(),-6} {node.Name,-7} {(addresses.Length > 0 ? addresses : string.Join(", ", node.Interfaces.Select(i => $"{i.Name} to {i.Peer.Host}")))}");
}
foreach (NetworkRoute route in net["alice"].Namespace.Network.GetRoutes().Where(r => r.Gateway is not null))
    Console.WriteLine($"alice route: {route}");

// UDP across the switch: bob answers alice.
using (Socket bob = net["bob"].CreateSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
using (Socket alice = net["alice"].CreateSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
{
    bob.Bind(new IPEndPoint(net["bob"].Address, 5353));
    await alice.SendToAsync("hello bob"u8.ToArray(), bob.LocalEndPoint!);
    byte[] buffer = new byte[64];
    SocketReceiveFromResult got = await bob.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0));
    Console.WriteLine($"bob got \"{Encoding.ASCII.GetString(buffer, 0, got.ReceivedBytes)}\" from {got.RemoteEndPoint} across the switch");
}

// TCP from alice to the server through gw and isp; the server counts what arrives in two seconds.
using Socket listener = net["server"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
listener.Bind(new IPEndPoint(net["server"].Address, 8080));
listener.Listen();
Task<Socket> accepting = listener.AcceptAsync();
using Socket client = net["alice"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
await client.ConnectAsync(listener.LocalEndPoint!);
using Socket connection = await accepting;
Console.WriteLine($"alice {client.LocalEndPoint} connected to server {client.RemoteEndPoint} through gw and isp");

using var sending = new CancellationTokenSource(TimeSpan.FromSeconds(2));
Task pushing = Task.Run(async () =>
{
    byte[] chunk = new byte[64 * 1024];
    try
    {
        while (true) await client.SendAsync(chunk, sending.Token);
    }
    catch (OperationCanceledException)
    {
    }
});
long received = 0;
byte[] data = new byte[64 * 1024];
var clock = Stopwatch.StartNew();
using var reading = new CancellationTokenSource(TimeSpan.FromSeconds(2));
try
{
    while (true) received += await connection.ReceiveAsync(data, reading.Token);
}
catch (OperationCanceledException)
{
}
await pushing;
LinkRateLimit limit = net["gw"].Namespace.Network.GetRateLimit(net["gw"].InterfaceTo("isp").Name)!;
Console.WriteLine($"uplink limited to {limit.BitsPerSecond / 1e6:F1} Mbit/s (tbf, burst {limit.BurstBytes} B, latency {limit.Latency.TotalMilliseconds:F0} ms): " +
                  $"the server received {received * 8 / clock.Elapsed.TotalSeconds / 1e6:F2} Mbit/s of data");
