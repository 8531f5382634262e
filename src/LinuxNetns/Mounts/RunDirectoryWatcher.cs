using System.Text;
using System.Threading.Channels;
using LinuxNetns.Interop;
using LinuxNetns.Logging;
using Microsoft.Extensions.Logging;
using LinuxNetns.Threads;

namespace LinuxNetns.Mounts;

/// <summary>
/// Watches the run directory with inotify (IN_CREATE | IN_DELETE, as <c>ip netns monitor</c> does) and hands the
/// events to an async reader. A dedicated thread waits in poll(2) on the inotify descriptor and on an eventfd that
/// <see cref="Dispose"/> signals, so a wait can always be ended without closing a descriptor under it.
/// </summary>
internal sealed class RunDirectoryWatcher : IDisposable
{
    // Room for many events; one event is at most 16 bytes + NAME_MAX + 1.
    private const int BufferSize = 16 * 1024;

    private readonly SafeFdHandle _inotify;
    private readonly SafeFdHandle _wake;
    private readonly string _directory;
    private readonly ILogger _log;
    private readonly Channel<NamespaceEvent> _events = Channel.CreateUnbounded<NamespaceEvent>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Thread _thread;
    private int _disposed;

    private RunDirectoryWatcher(SafeFdHandle inotify, SafeFdHandle wake, string directory, ILogger log)
    {
        _inotify = inotify;
        _wake = wake;
        _directory = directory;
        _log = log;
        _thread = new Thread(Loop) { IsBackground = true, Name = "netns monitor" };
    }

    /// <summary>The events, in the order the kernel reported them; completes when the watch ends.</summary>
    public ChannelReader<NamespaceEvent> Events => _events.Reader;

    /// <summary>Creates the directory if needed (as iproute2 does), adds the watch, and starts the waiting thread.</summary>
    public static RunDirectoryWatcher Start(string directory, ILogger log)
    {
        RunDirectory.CreateDirectories(directory);
        SafeFdHandle inotify = Libc.InotifyInit(Libc.IN_NONBLOCK);
        if (inotify.IsInvalid)
        {
            int errno = Libc.LastErrno;
            inotify.Dispose();
            throw NamespaceErrors.Failed(NamespaceOperation.InotifyInit, "inotify_init1", directory, (Errno)errno,
                errno == Libc.EMFILE ? "Too many inotify instances: raise fs.inotify.max_user_instances, or stop other watchers." : null);
        }
        SafeFdHandle? wake = null;
        try
        {
            if (Libc.InotifyAddWatch(inotify, directory, Libc.IN_CREATE | Libc.IN_DELETE | Libc.IN_ONLYDIR) < 0)
            {
                int errno = Libc.LastErrno;
                throw NamespaceErrors.Failed(NamespaceOperation.InotifyAddWatch, "inotify_add_watch", directory, (Errno)errno,
                    errno == Libc.ENOSPC ? "The inotify watch limit is reached: raise fs.inotify.max_user_watches." : null);
            }
            wake = Libc.EventFd(Libc.EFD_NONBLOCK);
            if (wake.IsInvalid) throw NamespaceErrors.Failed(NamespaceOperation.CreateEventFd, "eventfd", directory, (Errno)Libc.LastErrno);

            var watcher = new RunDirectoryWatcher(inotify, wake, directory, log);
            // Not from the caller's thread, which may be inside a NamespaceScope.
            HomeThreadStarter.Start(watcher._thread);
            log.MonitorStarted(directory);
            return watcher;
        }
        catch
        {
            wake?.Dispose();
            inotify.Dispose();
            throw;
        }
    }

    private void Loop()
    {
        Exception? failure = null;
        try
        {
            failure = Watch();
        }
        catch (Exception e)
        {
            failure = e;
        }
        _events.Writer.TryComplete(failure);
    }

    /// <summary>Waits and reads until stopped or the watch ends; returns the error that ended it, if any.</summary>
    private Exception? Watch()
    {
        byte[] buffer = new byte[BufferSize];
        Span<Libc.PollFd> fds = stackalloc Libc.PollFd[2];
        while (true)
        {
            fds[0] = new Libc.PollFd { Fd = _inotify.Fd, Events = Libc.POLLIN };
            fds[1] = new Libc.PollFd { Fd = _wake.Fd, Events = Libc.POLLIN };
            if (Libc.Poll(fds, -1) < 0)
            {
                int errno = Libc.LastErrno;
                if (errno == Libc.EINTR) continue;
                return NamespaceErrors.Failed(NamespaceOperation.InotifyRead, "poll inotify", _directory, (Errno)errno);
            }
            if (fds[1].ReturnedEvents != 0) return null; // Dispose asked us to stop.
            if ((fds[0].ReturnedEvents & Libc.POLLIN) == 0) continue;

            int length = Libc.Read(_inotify, buffer);
            if (length < 0)
            {
                int errno = Libc.LastErrno;
                if (errno is Libc.EINTR or Libc.EAGAIN) continue;
                return NamespaceErrors.Failed(NamespaceOperation.InotifyRead, "read inotify", _directory, (Errno)errno);
            }
            if (!Dispatch(buffer.AsSpan(0, length))) return null;
        }
    }

    /// <summary>Publishes the events in one read; false when the watch is gone (directory removed or unmounted).</summary>
    private bool Dispatch(ReadOnlySpan<byte> data)
    {
        bool watching = true;
        while (data.Length >= Libc.InotifyEventHeaderSize)
        {
            uint mask = BitConverter.ToUInt32(data[4..8]);
            int nameLength = (int)BitConverter.ToUInt32(data[12..16]);
            ReadOnlySpan<byte> name = data.Slice(Libc.InotifyEventHeaderSize, nameLength);
            int end = name.IndexOf((byte)0);
            string text = Encoding.UTF8.GetString(end < 0 ? name : name[..end]);
            data = data[(Libc.InotifyEventHeaderSize + nameLength)..];

            if ((mask & Libc.IN_Q_OVERFLOW) != 0) _log.MonitorOverflow(_directory);
            // Both bits are tested, as iproute2 does; the kernel never sets both in one event.
            if ((mask & Libc.IN_CREATE) != 0) _events.Writer.TryWrite(new NamespaceEvent(NamespaceEventKind.Added, text));
            if ((mask & Libc.IN_DELETE) != 0) _events.Writer.TryWrite(new NamespaceEvent(NamespaceEventKind.Deleted, text));
            if ((mask & Libc.IN_IGNORED) != 0)
            {
                _log.MonitorWatchRemoved(_directory);
                watching = false;
            }
        }
        return watching;
    }

    /// <summary>Stops the thread (waiting for it) and closes the descriptors.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Libc.SignalEventFd(_wake);
        if (_thread.ThreadState != ThreadState.Unstarted && Thread.CurrentThread != _thread) _thread.Join();
        _events.Writer.TryComplete();
        _inotify.Dispose();
        _wake.Dispose();
        _log.MonitorStopped(_directory);
    }
}
