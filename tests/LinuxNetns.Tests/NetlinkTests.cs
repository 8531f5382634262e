using System.Buffers.Binary;
using System.Text.Json;
using LinuxNetns.Netlink;
using Microsoft.Extensions.Logging.Abstractions;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>The rtnetlink layer and the nsid operations, compared with <c>ip netns set</c> / <c>list-id</c> / <c>list</c>.</summary>
public sealed class NetlinkTests : NamespaceTest
{
    /// <summary>Three named namespaces: a viewer whose nsid table the test changes, and two peers.</summary>
    private sealed class Trio : IDisposable
    {
        public Trio(NetlinkTests test)
        {
            ViewerName = test.NewName("viewer");
            AName = test.NewName("pa");
            BName = test.NewName("pb");
            Viewer = NetworkNamespace.Create(ViewerName);
            A = NetworkNamespace.Create(AName);
            B = NetworkNamespace.Create(BName);
        }

        public string ViewerName { get; }
        public string AName { get; }
        public string BName { get; }
        public NetworkNamespace Viewer { get; }
        public NetworkNamespace A { get; }
        public NetworkNamespace B { get; }

        public void Dispose()
        {
            foreach (NetworkNamespace ns in new[] { Viewer, A, B })
            {
                string name = ns.Name!;
                ns.Dispose();
                NetworkNamespace.Delete(name);
            }
        }
    }

    [RootFact]
    public void Nsid_set_by_ip_is_read_by_us_and_unassigned_is_null()
    {
        using var t = new Trio(this);
        t.Viewer.Network.GetNsid(t.A).Should().BeNull("a fresh namespace has assigned no nsid to anyone");
        Shell.Ip("-n", t.ViewerName, "netns", "set", t.AName, "42").EnsureSuccess();
        t.Viewer.Network.GetNsid(t.A).Should().Be(42);
        t.Viewer.Network.GetNsid(t.B).Should().BeNull();
        t.A.Network.GetNsid(t.Viewer).Should().BeNull("nsids are per viewing namespace");
    }

    [RootFact]
    public void Nsid_set_by_us_is_listed_by_ip()
    {
        using var t = new Trio(this);
        t.Viewer.Network.SetNsid(t.A, 7).Should().Be(7);
        t.Viewer.Network.SetNsid(t.B).Should().Be(0, "auto picks the lowest free id");

        string listId = Shell.Ip("-n", t.ViewerName, "netns", "list-id").StdOut;
        listId.Should().Contain($"nsid 7 (iproute2 netns name: {t.AName})")
            .And.Contain($"nsid 0 (iproute2 netns name: {t.BName})");

        string list = Shell.Ip("-n", t.ViewerName, "netns", "list").StdOut;
        list.Should().Contain($"{t.AName} (id: 7)").And.Contain($"{t.BName} (id: 0)");

        t.Viewer.Network.ListNsids().Should().BeEquivalentTo(new[] { new NsidEntry(0, null), new NsidEntry(7, null) });
        using var json = JsonDocument.Parse(Shell.Ip("-n", t.ViewerName, "-j", "netns", "list-id").EnsureSuccess().StdOut);
        json.RootElement.EnumerateArray().Select(e => e.GetProperty("nsid").GetInt32())
            .Should().BeEquivalentTo(t.Viewer.Network.ListNsids().Select(e => e.Nsid));
    }

    [RootFact]
    public void Auto_nsid_matches_ip_netns_set_auto()
    {
        using var t = new Trio(this);
        Shell.Ip("-n", t.ViewerName, "netns", "set", t.AName, "auto").EnsureSuccess();
        int fromIp = t.Viewer.Network.GetNsid(t.A)!.Value;
        t.Viewer.Network.SetNsid(t.B).Should().Be(fromIp + 1, "both ask the kernel for the lowest free id");
    }

    [RootFact]
    public void Refusals_carry_errno_and_the_kernels_extended_ack_text()
    {
        using var t = new Trio(this);
        t.Viewer.Network.SetNsid(t.A, 3);

        NetlinkException again = FluentActions.Invoking(() => t.Viewer.Network.SetNsid(t.A, 4)).Should().Throw<NetlinkException>().Which;
        again.Errno.Should().Be(Errno.EEXIST);
        again.KernelMessage.Should().Be("Peer netns already has a nsid assigned");
        again.Message.Should().Contain("RTM_NEWNSID").And.Contain(t.ViewerName).And.Contain("Peer netns already has a nsid assigned");
        again.Should().BeAssignableTo<NetworkNamespaceException>();

        NetlinkException taken = FluentActions.Invoking(() => t.Viewer.Network.SetNsid(t.B, 3)).Should().Throw<NetlinkException>().Which;
        taken.KernelMessage.Should().Be("The specified nsid is already used");

        // What ip prints for the same refusal.
        Shell.Ip("-n", t.ViewerName, "netns", "set", t.BName, "3").StdErr.Should().Contain(taken.KernelMessage);

        FluentActions.Invoking(() => t.Viewer.Network.SetNsid(t.B, -2)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [RootFact]
    public void List_id_with_a_target_translates_ids_like_ip()
    {
        using var t = new Trio(this);
        t.Viewer.Network.SetNsid(t.A, 1);
        t.Viewer.Network.SetNsid(t.B, 2);
        t.A.Network.SetNsid(t.B, 5);

        IReadOnlyList<NsidEntry> ofA = t.Viewer.Network.ListNsids(1);
        ofA.Should().Contain(new NsidEntry(5, 2), "A knows B as 5, and the viewer knows B as 2");

        string ip = Shell.Ip("-n", t.ViewerName, "netns", "list-id", "target-nsid", "1").EnsureSuccess().StdOut;
        ip.Should().Contain($"nsid 5 current-nsid 2 (iproute2 netns name: {t.BName})");

        t.Viewer.Network.ListNsids(2).Should().BeEmpty("B has assigned no nsid");
        FluentActions.Invoking(() => t.Viewer.Network.ListNsids(99)).Should().Throw<NetlinkException>()
            .Which.Message.Should().Contain("99");
    }

    [RootFact]
    public void The_socket_stays_in_its_namespace_whatever_thread_uses_it()
    {
        using var t = new Trio(this);
        t.Viewer.Network.SetNsid(t.A, 11);
        IReadOnlyList<NsidEntry> expected = t.Viewer.Network.ListNsids();

        // From a thread switched into another namespace, and from thread-pool threads: still the viewer's table.
        using (t.B.Enter())
        {
            t.Viewer.Network.ListNsids().Should().BeEquivalentTo(expected);
        }
        Task.Run(() => t.Viewer.Network.GetNsid(t.A)).Result.Should().Be(11);
        Parallel.For(0, 8, _ => t.Viewer.Network.GetNsid(t.A).Should().Be(11));
    }

    [RootFact]
    public void First_use_of_the_socket_from_a_caller_and_from_a_Run_item_at_once_does_not_deadlock()
    {
        // The first use opens the socket on the namespace's worker. If it held a lock while waiting for the worker,
        // and the worker were busy with an item that itself asks for the socket, neither could go on.
        NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        using var itemRunning = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        Task<int> inItem = Task.Run(() => ns.Run(() =>
        {
            itemRunning.Set();
            release.Wait();
            return ns.Network.GetLinks().Count;
        }));
        itemRunning.Wait();
        int outsideCount = -1;
        Exception? outsideError = null;
        var outside = new Thread(() =>
        {
            try
            {
                outsideCount = ns.Network.GetLinks().Count; // opens the socket: queues behind the item
            }
            catch (Exception e)
            {
                outsideError = e;
            }
        }) { IsBackground = true };
        outside.Start();
        // Let the outside caller get stuck waiting for the worker first (the order that deadlocked). Should it get
        // there later, the test proves less, but it still passes only when both finish.
        SpinWait.SpinUntil(() => outside.ThreadState.HasFlag(System.Threading.ThreadState.WaitSleepJoin), TimeSpan.FromSeconds(10));
        Thread.Sleep(100);
        release.Set();
        bool finished = inItem.Wait(TimeSpan.FromSeconds(30)) & outside.Join(TimeSpan.FromSeconds(30));
        finished.Should().BeTrue("neither first use may wait for the other (a deadlock leaves the worker stuck)");
        inItem.Result.Should().Be(1, "a new namespace has only lo");
        outsideError.Should().BeNull();
        outsideCount.Should().Be(1);
        ns.Dispose();
    }

    [RootFact]
    public void Sockets_opened_while_the_namespace_is_disposed_are_closed()
    {
        // Races Dispose against several first uses: each use either works or throws ObjectDisposedException, and no
        // socket of ours outlives the handle (a second handle looks at the namespace's netlink socket table).
        for (int round = 0; round < 20; round++)
        {
            NetworkNamespace ns = NetworkNamespace.CreateTemporary();
            using NetworkNamespace observer = NetworkNamespace.OpenPath($"/proc/self/fd/{ns.Handle.DangerousGetHandle()}");
            using var go = new ManualResetEventSlim();
            Task[] users = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                go.Wait();
                try
                {
                    ns.Network.GetLinks();
                }
                catch (ObjectDisposedException)
                {
                }
            })).ToArray();
            go.Set();
            ns.Dispose();
            Task.WaitAll(users);
            observer.Run(UserRouteSockets).Should().BeEmpty("every rtnetlink socket opened for the handle is closed once it is disposed");
        }
    }

    /// <summary>NETLINK_ROUTE sockets bound by user space (port id not 0) in the calling thread's namespace.</summary>
    private static List<string> UserRouteSockets() =>
        File.ReadAllLines("/proc/thread-self/net/netlink").Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f[1] == "0" && f[2] != "0")
            .Select(f => string.Join(' ', f))
            .ToList();

    [RootFact]
    public void A_dump_interrupted_every_time_fails_instead_of_returning_inconsistent_data()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        ns.Network.CreateVethPair("v0", "v1");
        for (int i = 0; i < 200; i++) ns.Network.AddAddress("v0", $"10.210.{i / 200}.{i % 200 + 1}/32");
        // A small buffer makes the kernel send the dump in many parts; between two parts the test changes the
        // address table, so the kernel flags the next part NLM_F_DUMP_INTR, in every attempt.
        using NetlinkSocket small = ns.Run(() => NetlinkSocket.OpenHere("small", NullLogger.Instance, 512));
        int added = 0;
        small.AfterDumpDatagram = () => ns.Network.AddAddress("v1", $"10.211.{added / 200}.{added++ % 200 + 1}/32");
        List<NetlinkMessage> Dump() => small.Dump(() =>
        {
            var r = new NetlinkRequest(Rtnl.RTM_GETADDR, 0);
            r.Header(new IfAddrMsg { Family = Rtnl.AF_INET });
            return r;
        }, "list addresses");

        NetlinkException e = FluentActions.Invoking(Dump).Should().Throw<NetlinkException>().Which;
        e.Errno.Should().Be(Errno.EINTR);
        e.Message.Should().Contain("list addresses").And.Contain("NLM_F_DUMP_INTR").And.Contain("Retry");
        small.DatagramsReceived.Should().BeGreaterThan(NetlinkSocket.DumpAttempts * 2, "each attempt spanned several parts");

        // Once the table is left alone, the same dump works, on the same socket.
        small.AfterDumpDatagram = null;
        Dump().Count(m => m.Type == Rtnl.RTM_NEWADDR).Should().Be(200 + added, "every address (lo is down and has none)");
    }

    [RootFact]
    public void A_dump_abandoned_midway_does_not_make_the_next_dump_on_the_socket_fail()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        ns.Network.CreateVethPair("v0", "v1");
        for (int i = 0; i < 200; i++) ns.Network.AddAddress("v0", $"10.212.{i / 200}.{i % 200 + 1}/32");
        // A small buffer makes the kernel send the dump in many parts; the first part's handler fails, so the reader
        // walks away while the kernel still has the rest of the dump to send on this socket.
        using NetlinkSocket small = ns.Run(() => NetlinkSocket.OpenHere("small", NullLogger.Instance, 512));
        small.AfterDumpDatagram = () => throw new TimeoutException("the reader gives up");
        List<NetlinkMessage> Dump() => small.Dump(() =>
        {
            var r = new NetlinkRequest(Rtnl.RTM_GETADDR, 0);
            r.Header(new IfAddrMsg { Family = Rtnl.AF_INET });
            return r;
        }, "list addresses");

        FluentActions.Invoking(Dump).Should().Throw<TimeoutException>();
        small.AfterDumpDatagram = null;
        Dump().Count(m => m.Type == Rtnl.RTM_NEWADDR).Should().Be(200, "the next dump is complete, not refused with EBUSY");
        small.Request(LoopbackQuery(), "get lo").Should().ContainSingle(m => m.Type == Rtnl.RTM_NEWLINK, "and requests still match their replies");
    }

    [RootFact]
    public void A_reply_that_never_comes_times_out_with_a_clear_error()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        using NetlinkSocket socket = ns.Run(() => NetlinkSocket.OpenHere("quiet", NullLogger.Instance, receiveTimeout: TimeSpan.FromMilliseconds(200)));
        // Nothing was asked, so nothing arrives: the wait must end on its own (it would block forever without SO_RCVTIMEO).
        Task wait = Task.Run(() => socket.ReceiveDatagram([], "wait for a reply"));
        Task.WaitAny([wait], TimeSpan.FromSeconds(20)).Should().Be(0, "the receive timeout ends the wait");
        NetlinkException e = wait.Exception!.InnerException.Should().BeOfType<NetlinkException>().Which;
        e.Errno.Should().Be(Errno.EAGAIN);
        e.Message.Should().Contain("wait for a reply").And.Contain("no reply from the kernel within 0.2 s").And.Contain("Retry");

        // The socket still works afterwards.
        socket.Request(LoopbackQuery(), "get lo").Should().ContainSingle(m => m.Type == Rtnl.RTM_NEWLINK);
    }

    [RootFact]
    public void A_malformed_datagram_is_a_NetlinkException_naming_the_operation()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        using NetlinkSocket socket = ns.Run(() => NetlinkSocket.OpenHere("victim", NullLogger.Instance, receiveTimeout: TimeSpan.FromSeconds(10)));
        // Root may unicast between netlink sockets: a second one sends ours a message whose length runs past the datagram.
        ns.Run(() =>
        {
            using Interop.SafeFdHandle sender = Interop.Libc.OpenRouteNetlinkSocket();
            byte[] bad = new byte[20];
            BinaryPrimitives.WriteUInt32LittleEndian(bad, 64); // nlmsg_len 64 in a 20-byte datagram
            byte[] to = new byte[12]; // struct sockaddr_nl: family, pad, port id, groups
            BinaryPrimitives.WriteUInt16LittleEndian(to, Interop.Libc.AF_NETLINK);
            BinaryPrimitives.WriteUInt32LittleEndian(to.AsSpan(4), socket.PortId);
            NativeForTests.sendto(sender.Fd, bad, (nuint)bad.Length, 0, to, (uint)to.Length).Should().Be(bad.Length);
        });
        NetlinkException e = FluentActions.Invoking(() => socket.ReceiveDatagram([], "read a reply"))
            .Should().Throw<NetlinkException>().Which;
        e.Errno.Should().Be(Errno.EBADMSG);
        e.Operation.Should().Be(NamespaceOperation.NetlinkRequest);
        e.Request.Should().Be("read a reply");
        e.Message.Should().Contain("\"victim\"").And.Contain("Bad message").And.Contain("claims 64 bytes, of 20 left").And.Contain("Retry");
    }

    private static NetlinkRequest LoopbackQuery() => RtnlMessages.GetLink("lo");

    [RootFact]
    public void Nsid_dump_lists_every_entry()
    {
        using var t = new Trio(this);
        var peers = new List<NetworkNamespace>();
        try
        {
            for (int i = 0; i < 40; i++)
            {
                peers.Add(NetworkNamespace.Create(NewName("many")));
                t.Viewer.Network.SetNsid(peers[^1], i + 100);
            }
            t.Viewer.Network.ListNsids().Select(e => e.Nsid).Should().BeEquivalentTo(Enumerable.Range(100, 40));
        }
        finally
        {
            foreach (NetworkNamespace p in peers)
            {
                p.Dispose();
                NetworkNamespace.Delete(p.Name!);
            }
        }
    }
}
