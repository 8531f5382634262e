namespace LinuxNetns.Testing;

/// <summary>What a node of a <see cref="VirtualNetwork"/> is.</summary>
public enum VirtualHostKind
{
    /// <summary>An end host (<see cref="VirtualNetworkBuilder.AddHost"/>): it does not forward.</summary>
    Host,

    /// <summary>A host that forwards IPv4 and IPv6 between its links (<see cref="VirtualNetworkBuilder.AddRouter"/>);
    /// the builder adds the routes through it on every host.</summary>
    Router,

    /// <summary>A bridge in a namespace of its own (<see cref="VirtualNetworkBuilder.AddSwitch"/>): the hosts connected
    /// to it share one subnet. It has no address; its interfaces are its ports.</summary>
    Switch,
}
