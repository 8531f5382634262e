namespace LinuxNetns.Exec;

/// <summary>The exception for a failed step of an exec window, naming the step as iproute2's messages do.</summary>
internal static class ExecErrors
{
    public static NetworkNamespaceException StepFailed(SwitchedWindow.Step step, int errno, string where, MountPropagation propagation)
    {
        (NamespaceOperation operation, string doing, string? advice) = step switch
        {
            SwitchedWindow.Step.SaveNamespaces => (NamespaceOperation.OpenThreadNamespace, "open /proc/thread-self/ns of the exec's window thread", "Is /proc mounted?"),
            SwitchedWindow.Step.SetnsNetwork => (NamespaceOperation.SetnsNetwork, "setns(CLONE_NEWNET) into", null),
            SwitchedWindow.Step.UnshareMount => (NamespaceOperation.UnshareMount, "unshare(CLONE_NEWNS) for an exec in", null),
            SwitchedWindow.Step.Propagation => (NamespaceOperation.SetMountPropagation, propagation == MountPropagation.Slave
                ? "mount --make-rslave / for an exec in" : "mount --make-rprivate / for an exec in", null),
            SwitchedWindow.Step.MountSysfs => (NamespaceOperation.MountSysfs, "mount of /sys for an exec in", null),
            SwitchedWindow.Step.OpenMountNamespace => (NamespaceOperation.OpenMountNamespace, "open the prepared mount namespace (/proc/thread-self/ns/mnt, mountinfo) for an exec in", "Is /proc mounted?"),
            SwitchedWindow.Step.UnshareFilesystem => (NamespaceOperation.UnshareFilesystem, "unshare(CLONE_FS) for an exec in", null),
            SwitchedWindow.Step.SetnsMount => (NamespaceOperation.SetnsMount, "setns(CLONE_NEWNS) into the prepared mount namespace for an exec in", null),
            SwitchedWindow.Step.ChangeDirectory => (NamespaceOperation.ChangeDirectory, "chdir to the working directory for an exec in", null),
            _ => (NamespaceOperation.Spawn, "posix_spawn for an exec in", null),
        };
        return NamespaceErrors.Failed(operation, doing, where, (Errno)errno, advice);
    }
}
