using LinuxNetns.Discovery;
using LinuxNetns.Interop;

namespace LinuxNetns;

// Opening a namespace found by NamespaceDiscovery from whichever of its holders still refers to it.
public sealed partial class NetworkNamespace
{
    internal static NetworkNamespace OpenDiscovered(DiscoveredNamespace discovered, NetworkNamespaceOptions options)
    {
        SafeFdHandle? fd = DiscoveryScan.TryOpenHolder(discovered.Candidates(), discovered.Id, out string path, out string? name, out string tried);
        if (fd is null)
        {
            throw new NamespaceNotFoundException(NamespaceOperation.OpenDiscovered, discovered.Id.ToString(), Errno.ENOENT,
                $"open discovered network namespace \"{discovered}\" failed: none of its holders refers to it any more ({tried}). " +
                "It has most likely died with its last holder: run NamespaceDiscovery.Discover() again.");
        }
        return Wrap(fd, name, path, options);
    }
}
