using System.Runtime.InteropServices;
using LinuxNetns.Interop;
using LinuxNetns.Threads;

namespace LinuxNetns.Exec;

/// <summary>
/// The library's thread that reaps the children of <see cref="ExecInNamespace"/> and notices changes of the host's
/// mount table. The runtime reaps only the children it started itself, so each of ours is watched by its pidfd
/// (readable once it has exited) and reaped here with waitid, which completes its <see cref="NamespaceProcess"/>.
/// A change of the host's mount table (poll on the home thread's <c>mountinfo</c>) makes every prepared mount
/// namespace stale: they are released at once rather than at the next exec. Started at home with the first exec,
/// it then lives as long as the process, blocked in poll(2).
/// </summary>
internal static class ChildMonitor
{
    private static readonly object Gate = new();
    private static readonly List<NamespaceProcess> Watched = new();
    private static SafeFdHandle? s_wake;

    /// <summary>Watches <paramref name="child"/> until it has exited, then reaps it.</summary>
    public static void Watch(NamespaceProcess child)
    {
        SafeFdHandle wake;
        lock (Gate)
        {
            wake = s_wake ??= Start();
            Watched.Add(child);
        }
        Libc.SignalEventFd(wake); // never closed: it lives as long as the process
    }

    private static SafeFdHandle Start()
    {
        SafeFdHandle wake = Libc.EventFd(Libc.EFD_NONBLOCK);
        if (wake.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            wake.Dispose();
            throw NamespaceErrors.Failed(NamespaceOperation.CreateEventFd, "eventfd for the exec child monitor", null, (Errno)errno);
        }
        SafeFdHandle homeEvents = PreparedMountNamespace.Cache.OpenHomeEvents();
        var thread = new Thread(() => Loop(wake, homeEvents))
        {
            IsBackground = true,
            Name = "netns:children",
        };
        HomeThreadStarter.Start(thread);
        return wake;
    }

    private static void Loop(SafeFdHandle wake, SafeFdHandle homeEvents)
    {
        var fds = new Libc.PollFd[16];
        var counter = new byte[8];
        var children = new List<NamespaceProcess>();
        while (true)
        {
            children.Clear();
            lock (Gate) children.AddRange(Watched);
            if (fds.Length < children.Count + 2) fds = new Libc.PollFd[(children.Count + 2) * 2];
            fds[0] = new Libc.PollFd { Fd = wake.Fd, Events = Libc.POLLIN };
            fds[1] = new Libc.PollFd { Fd = homeEvents.Fd, Events = Libc.POLLPRI };
            for (int i = 0; i < children.Count; i++) fds[i + 2] = new Libc.PollFd { Fd = children[i].PidfdForMonitor, Events = Libc.POLLIN };

            if (Libc.Poll(fds.AsSpan(0, children.Count + 2), -1) < 0) continue; // EINTR

            if (fds[0].ReturnedEvents != 0) Libc.Read(wake, counter);
            if ((fds[1].ReturnedEvents & (Libc.POLLPRI | Libc.POLLERR)) != 0) PreparedMountNamespace.Cache.HostMountsChanged();
            for (int i = 0; i < children.Count; i++)
            {
                if (fds[i + 2].ReturnedEvents == 0) continue;
                NamespaceProcess child = children[i];
                lock (Gate) Watched.Remove(child);
                child.Reap();
            }
        }
    }
}
