namespace LinuxNetns.Networking;

/// <summary>An nsid entry of a namespace (<c>ip netns list-id</c>).</summary>
/// <param name="Nsid">The id the listed namespace has assigned to one of its peers.</param>
/// <param name="CurrentNsid">
/// Only for <see cref="NetworkConfiguration.ListNsids(int)"/>: the id under which the namespace that was asked knows that
/// same peer, or null when it has none for it (<c>ip netns list-id target-nsid N</c> prints it as <c>current-nsid</c>).
/// </param>
public readonly record struct NsidEntry(int Nsid, int? CurrentNsid);
