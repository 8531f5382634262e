using System.Text.Json;
using LinuxNetns.Networking;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>
/// Bridges and token-bucket rate limits through our rtnetlink layer, inside temporary pinned namespaces, compared with
/// what the real <c>ip</c> and <c>tc</c> show there and with what <c>tc</c> itself sets.
/// </summary>
public sealed class BridgeAndRateLimitTests : NamespaceTest
{
    [RootFact]
    public void A_bridge_takes_ports_and_lets_them_go_as_ip_shows()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporaryPinned();
        NetworkConfiguration net = ns.Network;
        net.CreateBridge("br0", multicastSnooping: false);
        net.CreateVethPair("p0", "q0");
        net.SetLinkMaster("p0", "br0");

        JsonElement bridge = IpJson(ns, "-d", "link", "show", "br0")[0];
        bridge.GetProperty("linkinfo").GetProperty("info_kind").GetString().Should().Be("bridge");
        bridge.GetProperty("linkinfo").GetProperty("info_data").GetProperty("mcast_snooping").GetInt32().Should().Be(0);
        bridge.GetProperty("linkinfo").GetProperty("info_data").GetProperty("stp_state").GetInt32().Should().Be(0);
        IpJson(ns, "link", "show", "p0")[0].GetProperty("master").GetString().Should().Be("br0");
        net.FindLink("p0")!.MasterIndex.Should().Be(net.FindLink("br0")!.Index);
        net.FindLink("q0")!.MasterIndex.Should().BeNull();

        net.SetLinkMaster("p0", null);
        IpJson(ns, "link", "show", "p0")[0].TryGetProperty("master", out _).Should().BeFalse();
        net.FindLink("p0")!.MasterIndex.Should().BeNull();

        net.CreateBridge("br1");
        IpJson(ns, "-d", "link", "show", "br1")[0].GetProperty("linkinfo").GetProperty("info_data").GetProperty("mcast_snooping").GetInt32().Should().Be(1);
        FluentActions.Invoking(() => net.CreateBridge("br1")).Should().Throw<NetlinkException>().Which.Errno.Should().Be(Errno.EEXIST);
        FluentActions.Invoking(() => net.SetLinkMaster("p0", "q0")).Should().Throw<NetlinkException>().WithMessage("*\"q0\"*");
        FluentActions.Invoking(() => net.SetLinkMaster("p0", "nope")).Should().Throw<NetlinkException>().Which.Errno.Should().Be(Errno.ENODEV);
    }

    [RootFact]
    public void A_rate_limit_is_the_token_bucket_tc_would_set_and_reads_back()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporaryPinned();
        NetworkConfiguration net = ns.Network;
        net.CreateVethPair("t0", "t1");

        // The same limit, once through tc and once through the library: tc shows both alike.
        Shell.Run("tc", "-n", ns.Name!, "qdisc", "replace", "dev", "t1", "root", "tbf", "rate", "8mbit", "burst", "10kb", "latency", "50ms").EnsureSuccess();
        net.SetRateLimit("t0", 8_000_000, burstBytes: 10 * 1024, latency: TimeSpan.FromMilliseconds(50));
        TbfOptions(ns, "t0").Should().Be(TbfOptions(ns, "t1")).And.Contain("\"rate\":1000000").And.Contain("\"burst\":10240");
        LinkRateLimit fromTc = net.GetRateLimit("t1")!;
        fromTc.Should().Be(new LinkRateLimit { BitsPerSecond = 8_000_000, BurstBytes = 10240, QueueLimitBytes = 60240 });
        fromTc.Latency.Should().Be(TimeSpan.FromMilliseconds(50));
        net.GetRateLimit("t0").Should().Be(fromTc);

        // Defaults: 10 ms of the rate, at least two frames of the MTU; replacing keeps one root qdisc.
        net.SetRateLimit("t0", 1_000_000);
        net.GetRateLimit("t0")!.BurstBytes.Should().Be(2 * (1500 + 14));
        net.SetRateLimit("t0", 800_000_000);
        net.GetRateLimit("t0")!.Should().Be(new LinkRateLimit { BitsPerSecond = 800_000_000, BurstBytes = 1_000_000, QueueLimitBytes = 6_000_000 });
        // Faster than 2^32 bytes a second: the rate travels in TCA_TBF_RATE64 too.
        net.SetRateLimit("t0", 40_000_000_000, burstBytes: 1 << 20);
        net.GetRateLimit("t0")!.BitsPerSecond.Should().Be(40_000_000_000);
        TbfOptions(ns, "t0").Should().Contain("\"rate\":5000000000");

        net.RemoveRateLimit("t0").Should().BeTrue();
        net.GetRateLimit("t0").Should().BeNull();
        net.RemoveRateLimit("t0").Should().BeFalse();
        Shell.Run("tc", "-n", ns.Name!, "qdisc", "show", "dev", "t0").EnsureSuccess().StdOut.Should().NotContain("tbf");

        FluentActions.Invoking(() => net.SetRateLimit("t0", 7)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => net.SetRateLimit("t0", 1000, burstBytes: 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => net.SetRateLimit("nope", 1000)).Should().Throw<NetlinkException>()
            .Which.Message.Should().Contain("nope").And.Contain("t0");
    }

    private static JsonElement IpJson(NetworkNamespace ns, params string[] args) =>
        JsonDocument.Parse(Shell.Ip(["-n", ns.Name!, "-j", .. args]).EnsureSuccess().StdOut).RootElement;

    /// <summary>The options of the link's root tbf as tc prints them in JSON (rate, burst, latency).</summary>
    private static string TbfOptions(NetworkNamespace ns, string link)
    {
        JsonElement qdisc = JsonDocument.Parse(Shell.Run("tc", "-n", ns.Name!, "-j", "qdisc", "show", "dev", link).EnsureSuccess().StdOut).RootElement[0];
        qdisc.GetProperty("kind").GetString().Should().Be("tbf");
        return qdisc.GetProperty("options").GetRawText();
    }
}
