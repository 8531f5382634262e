using LinuxNetns.Testing.Rootless;

namespace LinuxNetns.Testing;

/// <summary>
/// A built virtual network: hosts, routers and switches (each a temporary namespace) joined by veth links, built by
/// <see cref="VirtualNetworkBuilder"/>. Disposing it disposes every node's
/// namespace handle (and, for a network built without root, ends its helper and every process started in it); the
/// kernel then frees the namespaces and deletes the links. If the process dies first, the kernel does the same (pinned
/// names excepted: see <see cref="NetworkNamespace.PruneTemporary()"/>).
/// </summary>
public sealed class VirtualNetwork : IAsyncDisposable, IDisposable
{
    private readonly Dictionary<string, VirtualHost> _byName;
    private readonly UserNamespaceHelper? _helper;
    private bool _disposed;

    internal VirtualNetwork(IReadOnlyList<VirtualHost> hosts, IReadOnlyList<VirtualInterface> links, UserNamespaceHelper? helper)
    {
        Hosts = hosts;
        Links = links;
        _helper = helper;
        _byName = hosts.ToDictionary(h => h.Name);
    }

    /// <summary>
    /// True when the network was built without root (or with <see cref="VirtualNetworkBuilder.InUserNamespace"/>): its
    /// namespaces belong to a user namespace of its own, held by a helper process (docs/rootless.md). Sockets, exec and
    /// the network configuration work as with root; <see cref="NetworkNamespace.Enter"/> and
    /// <see cref="NetworkNamespace.Run(Action)"/> throw <see cref="NotSupportedException"/>.
    /// </summary>
    public bool InUserNamespace => _helper is not null;

    /// <summary>Two hosts, <c>a</c> and <c>b</c>, joined by one link with the automatic addresses
    /// (<c>10.199.0.1</c>/<c>.2</c>, <c>fd00:199::1</c>/<c>::2</c>).</summary>
    public static VirtualNetwork CreatePair() => new VirtualNetworkBuilder().AddHost("a").AddHost("b").Connect("a", "b").Build();

    /// <summary>Every node — hosts, routers and switches (see <see cref="VirtualHost.Kind"/>) — in the order they were added.</summary>
    public IReadOnlyList<VirtualHost> Hosts { get; }

    /// <summary>One end of each link (the first host's), in the order the links were added; see <see cref="VirtualInterface.Peer"/>.</summary>
    public IReadOnlyList<VirtualInterface> Links { get; }

    /// <summary>The host, router or switch of that name.</summary>
    /// <exception cref="KeyNotFoundException">None of that name.</exception>
    public VirtualHost this[string name] =>
        _byName.TryGetValue(name, out VirtualHost? host)
            ? host
            : throw new KeyNotFoundException($"No host named \"{name}\"; the hosts are: {string.Join(", ", _byName.Keys)}.");

    /// <summary>Disposes every host's namespace (and so its links, sockets' namespaces and pinned name).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        List<Exception>? errors = null;
        foreach (VirtualHost host in Hosts)
        {
            try
            {
                host.Namespace.Dispose();
            }
            catch (Exception e)
            {
                (errors ??= []).Add(e);
            }
        }
        try
        {
            _helper?.Dispose(); // the helper ends, and every process it started in the hosts
        }
        catch (Exception e)
        {
            (errors ??= []).Add(e);
        }
        if (errors is not null) throw new AggregateException("Tearing down the virtual network failed for some hosts.", errors);
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
