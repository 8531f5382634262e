using System.Net;
using System.Net.Sockets;
using System.Text;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>In-process code that sees what `ip netns exec` would show a program: WorkerMounts.LikeExec and the HTTP handler.</summary>
/// <remarks>Process-wide: each test checks that no thread of the process is left in another mount namespace, which
/// exec tests running in parallel (their window threads) would make fail at random.</remarks>
[Collection(ProcessWideCollection.Name)]
public sealed class ExecLikeEnvironmentTests : NamespaceTest
{
    [RootFact]
    public async Task LikeExec_workers_see_the_namespace_sysfs_and_its_etc_netns_files_and_host_workers_do_not()
    {
        string name = NewName("likeexec");
        string etc = Directory.CreateTempSubdirectory(RunPrefix + "likeexec-").FullName;
        string hosts = "127.0.0.1 localhost\n10.99.0.1 only-in-ns.test\n";
        Directory.CreateDirectory(Path.Combine(etc, name));
        File.WriteAllText(Path.Combine(etc, name, "hosts"), hosts);
        var likeExec = new NetworkNamespaceOptions { EtcDirectory = etc, WorkerMounts = WorkerMounts.LikeExec };
        try
        {
            using (NetworkNamespace ns = NetworkNamespace.Create(name, likeExec))
            using (NetworkNamespace plain = NetworkNamespace.Open(name, new NetworkNamespaceOptions { EtcDirectory = etc }))
            {
                ns.Network.CreateVethPair("lntv0", "lntv1");
                static string[] SysClassNet() => Directory.GetDirectories("/sys/class/net").Select(Path.GetFileName).Order().ToArray()!;

                ns.Run(SysClassNet).Should().Equal("lntv0", "lntv1", "lo");
                ns.Run(() => File.ReadAllText("/sys/class/net/lntv0/mtu")).Should().Be("1500\n");
                ns.Run(() => File.ReadAllText("/etc/hosts")).Should().Be(hosts);
                ns.Run(() => Dns.GetHostAddresses("only-in-ns.test")).Should().Equal(IPAddress.Parse("10.99.0.1"));
                (await ns.RunAsync(async () =>
                {
                    await Task.Yield();
                    return SysClassNet();
                })).Should().Equal("lntv0", "lntv1", "lo");

                plain.Run(SysClassNet).Should().Equal(SysClassNet(), "a worker with the host's mounts reads the host's /sys");
                plain.Run(() => File.ReadAllText("/etc/hosts")).Should().Be(File.ReadAllText("/etc/hosts"));
                SysClassNet().Should().NotContain("lntv0");
            }
            NoThreadInAnotherMountNamespace();
            NetworkNamespace.Delete(name);
        }
        finally
        {
            if (NetworkNamespace.Exists(name)) NetworkNamespace.Delete(name);
            Directory.Delete(etc, recursive: true);
        }
    }

    [RootFact]
    public async Task The_HTTP_handler_resolves_with_the_namespace_hosts_file_and_connects_inside()
    {
        string name = NewName("http");
        string etc = Directory.CreateTempSubdirectory(RunPrefix + "http-").FullName;
        Directory.CreateDirectory(Path.Combine(etc, name));
        File.WriteAllText(Path.Combine(etc, name, "hosts"), "127.0.0.1 localhost\n127.0.0.1 only-in-ns.test\n");
        File.ReadAllText("/etc/hosts").Should().NotContain("only-in-ns.test", "only the namespace's hosts file may know the name");
        try
        {
            using (NetworkNamespace ns = NetworkNamespace.Create(name, new NetworkNamespaceOptions { EtcDirectory = etc }))
            {
                ns.Network.BringLoopbackUp();
                // The server listens only inside: on the namespace's loopback.
                using Socket listener = ns.CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                listener.Listen();
                int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
                Task<string> server = ServeOnceAsync(listener, "hello from inside");

                using var client = new HttpClient(ns.CreateHttpMessageHandler());
                string body = await client.GetStringAsync($"http://only-in-ns.test:{port}/path");

                body.Should().Be("hello from inside");
                (await server).Should().StartWith("GET /path HTTP/1.1").And.Contain($"Host: only-in-ns.test:{port}");
            }
            NoThreadInAnotherMountNamespace();
            NetworkNamespace.Delete(name);
        }
        finally
        {
            if (NetworkNamespace.Exists(name)) NetworkNamespace.Delete(name);
            Directory.Delete(etc, recursive: true);
        }
    }

    private static async Task<string> ServeOnceAsync(Socket listener, string body)
    {
        using Socket connection = await listener.AcceptAsync();
        var request = new StringBuilder();
        var buffer = new byte[4096];
        while (!request.ToString().Contains("\r\n\r\n"))
        {
            int n = await connection.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0) break;
            request.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        byte[] response = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
        await connection.SendAsync(response, SocketFlags.None);
        connection.Shutdown(SocketShutdown.Send);
        return request.ToString();
    }

    private static string? MountLink(string task)
    {
        try
        {
            return new FileInfo(task + "/ns/mnt").LinkTarget;
        }
        catch (IOException)
        {
            return null; // the thread ended meanwhile
        }
    }

    /// <summary>The workers with exec-like mounts went home (or ended) with their handle: none stays in a prepared mount namespace.</summary>
    private static void NoThreadInAnotherMountNamespace()
    {
        string home = new FileInfo("/proc/self/ns/mnt").LinkTarget!;
        List<string> elsewhere = [];
        for (var deadline = DateTime.UtcNow.AddSeconds(2); DateTime.UtcNow < deadline; Thread.Sleep(20))
        {
            elsewhere = Directory.EnumerateDirectories("/proc/self/task")
                .Where(t => MountLink(t) is { } link && link != home).ToList();
            if (elsewhere.Count == 0) return;
        }
        elsewhere.Should().BeEmpty("no thread may stay in a mount namespace of a disposed handle's workers");
    }
}
