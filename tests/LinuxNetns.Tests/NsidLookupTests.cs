using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>LookupNsid (one RTM_GETNSID by nsid) against <c>ip netns list-id nsid N</c>, in namespaces of the test's own.</summary>
public sealed class NsidLookupTests : NamespaceTest
{
    [RootFact]
    public void LookupNsid_finds_a_peer_by_its_nsid_with_and_without_a_target()
    {
        string a = NewName("lka");
        string b = NewName("lkb");
        string t = NewName("lkt");
        using NetworkNamespace nsA = NetworkNamespace.Create(a);
        using NetworkNamespace nsB = NetworkNamespace.Create(b);
        using NetworkNamespace nsT = NetworkNamespace.Create(t);
        try
        {
            // Ids are assigned inside A and T, never in the host namespace other tests share.
            nsA.Network.SetNsid(nsB, 7).Should().Be(7);
            nsA.Network.SetNsid(nsT, 3).Should().Be(3);
            nsT.Network.SetNsid(nsB, 9).Should().Be(9);

            nsA.Network.LookupNsid(7).Should().Be(new NsidEntry(7, null));
            nsA.Network.LookupNsid(7, targetNsid: 3).Should().Be(new NsidEntry(9, 7), "T knows B as 9; A knows B as 7");
            nsA.Network.LookupNsid(3, targetNsid: 3).Should().Be(new NsidEntry(-1, 3), "T has no id for itself");

            Shell.Ip("netns", "exec", a, "ip", "netns", "list-id", "target-nsid", "3", "nsid", "7").EnsureSuccess()
                .StdOut.Should().Be($"nsid 9 current-nsid 7 (iproute2 netns name: {b})\n");

            FluentActions.Invoking(() => nsA.Network.LookupNsid(8)).Should().Throw<NetlinkException>()
                .Which.KernelMessage.Should().Be("Peer netns reference is invalid");
            FluentActions.Invoking(() => nsA.Network.LookupNsid(7, targetNsid: 44)).Should().Throw<NetlinkException>();
            FluentActions.Invoking(() => nsA.Network.LookupNsid(-1)).Should().Throw<ArgumentOutOfRangeException>();
        }
        finally
        {
            NetworkNamespace.Delete(a);
            NetworkNamespace.Delete(b);
            NetworkNamespace.Delete(t);
        }
    }
}
