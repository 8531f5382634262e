namespace LinuxNetns;

/// <summary>
/// What failed, as <see cref="NetworkNamespaceException.Operation"/>: the step of a library operation, as fine as
/// callers need to tell failures apart (e.g. <c>ip netns add</c> prints a different text for each of the run
/// directory's mount steps, the placeholder, the unshare and the bind). The message says the same in words, with
/// the system call.
/// </summary>
public enum NamespaceOperation
{
    /// <summary>Opening a namespace file (a name in the run directory, a path, <c>/proc/PID/ns/net</c>) and checking
    /// that it is a network namespace (fstatfs, fstat, <c>NS_GET_NSTYPE</c>).</summary>
    OpenNamespaceFile,

    /// <summary><c>pidfd_open</c> of a process: the one whose namespace is opened (so that a reused pid cannot hand out
    /// another's), a started exec child, or this process to check that the kernel has it (Linux 5.3).</summary>
    OpenProcess,

    /// <summary>Reopening a namespace found by <see cref="NamespaceDiscovery"/>: none of its holders refers to it any more.</summary>
    OpenDiscovered,

    /// <summary>Opening <c>/proc/thread-self/ns/*</c> of a thread: a scope saving where to return, a create keeping
    /// its new namespace, an exec window saving the thread's namespaces.</summary>
    OpenThreadNamespace,

    /// <summary><c>setns(CLONE_NEWNET)</c> into the namespace: a scope, a Run worker thread, an exec.</summary>
    SetnsNetwork,

    /// <summary><c>setns</c> back to the namespace a thread was in (<see cref="NamespaceRestoreException"/>); also any
    /// later attempt to enter a namespace on a thread where that failed before (<see cref="Errno.None"/>).</summary>
    RestoreNamespace,

    /// <summary><c>mkdir -p</c> of the run directory (add, attach, monitor).</summary>
    MakeRunDirectory,

    /// <summary>Opening the run directory (<c>O_DIRECTORY</c>) to lock it.</summary>
    OpenRunDirectory,

    /// <summary><c>flock</c> of the run directory, which serializes its mount steps between concurrent adds.</summary>
    LockRunDirectory,

    /// <summary><c>mount --make-rshared</c> of the run directory.</summary>
    ShareRunDirectory,

    /// <summary><c>mount --rbind</c> of the run directory onto itself, to make it a mount point.</summary>
    BindRunDirectory,

    /// <summary>Creating the empty placeholder file <c>O_CREAT|O_EXCL</c> (<see cref="Errno.EEXIST"/>: the name is taken).</summary>
    CreatePlaceholder,

    /// <summary><c>unshare(CLONE_NEWNET)</c>: creating the new network namespace.</summary>
    UnshareNetwork,

    /// <summary><c>mount --bind</c> of the namespace onto its placeholder (add and attach); <see cref="Errno.ENOENT"/>:
    /// a concurrent delete removed the placeholder.</summary>
    BindNamespace,

    /// <summary><c>umount2</c> of a name's bind mount (delete).</summary>
    Unmount,

    /// <summary><c>unlink</c> of a name's file (delete).</summary>
    Unlink,

    /// <summary>Exec refused before any step: the process lacks CAP_SYS_ADMIN, which setns, unshare and mount need.</summary>
    Exec,

    /// <summary>Finding the program to exec or its working directory, before anything is started.</summary>
    ResolveProgram,

    /// <summary><c>unshare(CLONE_NEWNS)</c>: the exec's own mount namespace.</summary>
    UnshareMount,

    /// <summary><c>mount --make-rslave /</c> or <c>--make-rprivate /</c> in the exec's mount namespace (<see cref="MountPropagation"/>).</summary>
    SetMountPropagation,

    /// <summary>Mounting the namespace's sysfs on <c>/sys</c> in the exec's mount namespace.</summary>
    MountSysfs,

    /// <summary>A bind mount of an <c>/etc/netns/NAME</c> entry over <c>/etc</c> (<see cref="EtcBindException"/>: reported, not thrown).</summary>
    BindEtcFile,

    /// <summary>Opening the exec's prepared mount namespace (<c>/proc/thread-self/ns/mnt</c>, <c>mountinfo</c>).</summary>
    OpenMountNamespace,

    /// <summary><c>unshare(CLONE_FS)</c> of the exec's window thread.</summary>
    UnshareFilesystem,

    /// <summary><c>setns(CLONE_NEWNS)</c> into the exec's prepared mount namespace.</summary>
    SetnsMount,

    /// <summary><c>chdir</c> to the working directory inside the exec's namespaces.</summary>
    ChangeDirectory,

    /// <summary>What posix_spawn needs before the switch: pipes for redirected streams, file actions and attributes.</summary>
    PrepareSpawn,

    /// <summary><c>posix_spawn</c> of the program.</summary>
    Spawn,

    /// <summary><c>eventfd</c> that wakes a watcher thread (the run directory monitor, the exec child monitor).</summary>
    CreateEventFd,

    /// <summary><c>pidfd_send_signal</c> to a started process (<see cref="NamespaceProcess.Kill(bool)"/>).</summary>
    SignalProcess,

    /// <summary><c>inotify_init1</c> of the run directory monitor.</summary>
    InotifyInit,

    /// <summary><c>inotify_add_watch</c> on the run directory.</summary>
    InotifyAddWatch,

    /// <summary><c>poll</c> or <c>read</c> of the monitor's inotify descriptor.</summary>
    InotifyRead,

    /// <summary>Opening an rtnetlink socket (<c>socket</c>, <c>setsockopt</c>, <c>bind</c>).</summary>
    NetlinkSocket,

    /// <summary>An rtnetlink request (<see cref="Networking.NetlinkException"/>): sending it, the kernel's error answer, no answer
    /// in time, or a reply that could not be parsed.</summary>
    NetlinkRequest,

    /// <summary>Starting, or asking, the helper that holds the namespaces of a network built without root in a user
    /// namespace of its own (<c>unshare</c>, its socket, a request it refused); docs/rootless.md.</summary>
    UserNamespace,
}
