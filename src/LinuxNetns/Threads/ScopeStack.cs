using System.Runtime.CompilerServices;
using LinuxNetns.Exec;
using LinuxNetns.Interop;

namespace LinuxNetns.Threads;

/// <summary>
/// The calling thread's stack of <see cref="NamespaceScope"/>s. Per thread, allocated once; entering and leaving
/// allocate nothing. Inside a scope the thread's namespace is known (the top frame's), so nested scopes need no
/// syscall to save it, and entering the namespace the thread is already in makes no syscall at all.
/// </summary>
internal static class ScopeStack
{
    private struct Frame
    {
        public SafeFdHandle Target;   // kept alive (AddRef) while the frame is open: the switches use its raw number
        public NamespaceId TargetId;
        public int SavedFd;           // outermost switched frame only: the namespace to go back to, or -1 ...
        public int HomeFd;            // ... or the home namespace's descriptor (not ours to close), or -1
        public bool Switched;
        public int Token;
    }

    [ThreadStatic] private static Frame[]? t_frames;
    [ThreadStatic] private static int t_count;
    [ThreadStatic] private static int t_nextToken;
    [ThreadStatic] private static bool t_broken;

    /// <summary>True when the calling thread is inside at least one scope.</summary>
    public static bool IsActive => t_count > 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static NamespaceScope Enter(NetworkNamespace ns)
    {
        if (t_broken) throw BrokenThread();
        HomeThread.EnsureRuntimeThreadsStarted();
        Frame[] frames = t_frames ??= new Frame[8];
        if (t_count == frames.Length) Array.Resize(ref t_frames, frames.Length * 2);
        frames = t_frames!;

        SafeFdHandle target = ns.Fd;
        bool added = false;
        // Held for the whole scope, not one call: Exit and inner frames switch with its raw number (Switched).
        target.DangerousAddRef(ref added); // throws ObjectDisposedException for a disposed handle

        int savedFd = -1;
        bool switched;
        int homeFd = -1;
        if (t_count > 0)
        {
            switched = frames[t_count - 1].TargetId != ns.Id;
        }
        else
        {
            // Usually the thread is at home: one readlink says so, and the way back is the home descriptor the
            // library keeps open, so there is nothing to open or close. Anywhere else, save it in a descriptor.
            ulong current = ThreadNamespaces.CurrentNetInode();
            if (current != 0 && current == ns.Id.Inode)
            {
                switched = false;
            }
            else if (current != 0 && current == ThreadNamespaces.HomeId.Inode)
            {
                switched = true;
                homeFd = ThreadNamespaces.Home.Fd; // never closed: it lives as long as the process
            }
            else
            {
                savedFd = ThreadNamespaces.OpenCurrentRaw();
                if (savedFd < 0)
                {
                    int errno = Libc.LastErrno;
                    target.DangerousRelease();
                    throw NamespaceErrors.Failed(NamespaceOperation.OpenThreadNamespace, "open /proc/thread-self/ns/net", ns.Name ?? ns.Path, (Errno)errno);
                }
                switched = Switched.FStat(savedFd, out Libc.StatX st) != 0 || new NamespaceId(st.Dev, st.Ino) != ns.Id;
                if (!switched)
                {
                    Switched.Close(savedFd);
                    savedFd = -1;
                }
            }
        }

        if (switched && Switched.Setns(target.Fd, Libc.CLONE_NEWNET) != 0)
        {
            int errno = Libc.LastErrno;
            if (savedFd >= 0) Switched.Close(savedFd);
            target.DangerousRelease();
            throw NamespaceErrors.Failed(NamespaceOperation.SetnsNetwork, "setns(CLONE_NEWNET) into", ns.Name ?? ns.Path, (Errno)errno);
        }

        int token = ++t_nextToken == 0 ? ++t_nextToken : t_nextToken;
        frames[t_count] = new Frame { Target = target, TargetId = ns.Id, SavedFd = savedFd, HomeFd = homeFd, Switched = switched, Token = token };
        return new NamespaceScope(t_count++, token, Environment.CurrentManagedThreadId);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Exit(int depth, int token, int threadId)
    {
        if (Environment.CurrentManagedThreadId != threadId)
        {
            throw new InvalidOperationException(
                $"A NamespaceScope was disposed on thread {Environment.CurrentManagedThreadId}, but it switched thread {threadId}. " +
                "Dispose it on the thread that entered it (a scope cannot follow an await). No thread was changed.");
        }
        Frame[]? frames = t_frames;
        if (frames is null || depth >= t_count || frames[depth].Token != token) return; // already disposed (a copy)
        if (depth != t_count - 1)
        {
            throw new InvalidOperationException("Nested NamespaceScopes must be disposed innermost first; an inner scope is still open.");
        }

        ref Frame frame = ref frames[depth];
        int restoreErrno = 0;
        bool atHomeInstead = false;
        ulong entered = frame.TargetId.Inode;
        if (frame.Switched)
        {
            int back = frame.SavedFd >= 0 ? frame.SavedFd : frame.HomeFd >= 0 ? frame.HomeFd : frames[depth - 1].Target.Fd;
            if (Switched.Setns(back, Libc.CLONE_NEWNET) != 0)
            {
                restoreErrno = Libc.LastErrno;
                // Never leave the thread (often a pool thread) inside: the home namespace is the next best place.
                int home = ThreadNamespaces.Home.Fd;
                atHomeInstead = back != home && Switched.Setns(home, Libc.CLONE_NEWNET) == 0;
            }
        }
        if (frame.SavedFd >= 0) Switched.Close(frame.SavedFd);
        frame.Target.DangerousRelease();
        frame = default;
        t_count--;

        if (restoreErrno != 0) throw RestoreFailed(restoreErrno, atHomeInstead, entered);
    }

    /// <summary>
    /// The switch back failed. Back at home (the fallback), the thread is usable again unless outer scopes expect it
    /// elsewhere; still inside, it is refused from now on. Either way the error says which thread is where.
    /// </summary>
    private static NamespaceRestoreException RestoreFailed(int errno, bool atHomeInstead, ulong entered)
    {
        int tid = Libc.GetThreadId();
        string reason = $"Could not switch thread {tid} (kernel thread id) back to the network namespace it was in before: {NamespaceErrors.Describe(errno)}. ";
        if (atHomeInstead)
        {
            t_broken = t_count > 0; // the outer scopes would run in the home namespace, not in theirs
            return new NamespaceRestoreException(NamespaceOperation.RestoreNamespace, "/proc/thread-self/ns/net", (Errno)errno, reason +
                $"It was moved to the process's home network namespace (net:[{ThreadNamespaces.HomeId.Inode}]) instead, not left in net:[{entered}]. " +
                (t_count > 0
                    ? "Outer scopes are still open on it: the library refuses further scopes on this thread; end it."
                    : "Code that expected to be back elsewhere must switch again."));
        }
        t_broken = true;
        return new NamespaceRestoreException(NamespaceOperation.RestoreNamespace, "/proc/thread-self/ns/net", (Errno)errno, reason +
            $"Switching to the home namespace failed too: thread {tid} is still in the namespace it entered (net:[{entered}]); " +
            "the library refuses further scopes on it. End this thread (or the process) rather than keep using it.");
    }

    private static NamespaceRestoreException BrokenThread() => new(NamespaceOperation.RestoreNamespace, "/proc/thread-self/ns/net", Errno.None,
        "This thread could not be switched back to its namespace earlier and is in an unknown namespace; it must not enter namespaces any more. End the thread.");
}
