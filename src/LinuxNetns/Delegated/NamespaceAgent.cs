using System.Diagnostics;
using LinuxNetns.Interop;

namespace LinuxNetns.Delegated;

/// <summary>
/// Does, for a namespace this process cannot enter, what must happen inside it: another process that is in the
/// namespace's user namespace (the helper of a network built without root, docs/rootless.md) makes the sockets and
/// starts the processes there and hands the descriptors back. A handle made with
/// <see cref="NetworkNamespace.FromAgent"/> sends those operations here and refuses the ones that switch a thread of
/// this process (<see cref="NetworkNamespace.Enter"/>, <see cref="NetworkNamespace.Run(Action)"/>, …).
/// </summary>
internal abstract class NamespaceAgent
{
    /// <summary>Why this process cannot enter the namespace, for the <see cref="NotSupportedException"/> of a refused
    /// operation (e.g. "it belongs to the user namespace of a network built without root").</summary>
    public abstract string WhyNotEnterable { get; }

    /// <summary>A NETLINK_ROUTE socket created inside the namespace (close-on-exec; the caller owns it).</summary>
    public abstract SafeFdHandle OpenRouteNetlink();

    /// <summary>A socket created inside the namespace (close-on-exec; the caller owns it).</summary>
    public abstract SafeFdHandle CreateSocket(int family, int type, int protocol);

    /// <summary>Writes <paramref name="value"/> to <c>/proc/sys/<paramref name="path"/></c> as seen from inside the namespace.</summary>
    public abstract void WriteSysctl(string path, string value);

    /// <summary>
    /// Starts <paramref name="program"/> inside the namespace as <c>ip netns exec</c> would (fresh sysfs; no
    /// <c>/etc/netns</c> entry: the namespace has no name). The checks of <see cref="ExecInNamespace"/> were made.
    /// </summary>
    public abstract NamespaceProcess Start(ProcessStartInfo startInfo, string program, IReadOnlyList<string> arguments,
        string workingDirectory, ExecOptions options);
}
