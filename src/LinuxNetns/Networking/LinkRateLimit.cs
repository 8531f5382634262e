namespace LinuxNetns.Networking;

/// <summary>
/// A token-bucket rate limit on what a link sends (its root qdisc is <c>tbf</c>), as <c>tc qdisc show</c> lists it:
/// set with <see cref="NetworkConfiguration.SetRateLimit"/>, read with <see cref="NetworkConfiguration.GetRateLimit"/>.
/// </summary>
public sealed record LinkRateLimit
{
    /// <summary>The rate, in bits per second (<c>tc</c>'s <c>rate</c>, which it shows in bytes per second in JSON).</summary>
    public required long BitsPerSecond { get; init; }

    /// <summary>The bucket: how many bytes may leave back to back at the link's own speed (<c>burst</c>).</summary>
    public required int BurstBytes { get; init; }

    /// <summary>How many bytes may wait for tokens before the link drops what it is given (<c>limit</c>).</summary>
    public required int QueueLimitBytes { get; init; }

    /// <summary>The longest a packet waits in the queue: (limit − burst) ÷ rate (<c>tc</c>'s <c>latency</c>).</summary>
    public TimeSpan Latency => TimeSpan.FromSeconds(Math.Max(0, QueueLimitBytes - BurstBytes) * 8.0 / BitsPerSecond);
}
