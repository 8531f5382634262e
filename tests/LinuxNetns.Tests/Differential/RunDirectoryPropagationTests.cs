using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests.Differential;

/// <summary>
/// The first set-up of the run directory on a host whose <c>/run</c> is shared with mount namespaces that already
/// exist (a service with private mounts is a slave copy, a container sharing <c>/run</c> a shared one): iproute2
/// self-binds the run directory and makes it shared, so the new mount point stays in <c>/run</c>'s peer group and
/// every copy sees each namespace added or attached later, and its removal. Ours must do exactly the same.
/// </summary>
public sealed class RunDirectoryPropagationTests : NamespaceTest
{
    private readonly Differential _diff = new(RunPrefix);

    public override void Dispose()
    {
        _diff.Dispose();
        base.Dispose();
    }

    [RootFact]
    public void Copies_of_the_mount_namespace_made_before_the_first_add_see_add_attach_and_delete()
    {
        // The sandbox's own /run: a fresh shared tmpfs without a netns directory, so the tool must create the run
        // directory and self-bind it (the EINVAL path). nsfs NAME prints whether each copy sees an nsfs mount there
        // (not how many: ip itself makes two, one through /run, one through the self-bind).
        var (ip, _) = _diff.AssertSame("""
            umount /run/netns
            mount -t tmpfs -o mode=0755 lnt-run /run || exit 98
            mount --make-shared /run
            me=$(readlink /proc/self/ns/mnt)
            copy() { "$@" & COPY=$!; while [ "$(readlink /proc/$COPY/ns/mnt)" = "$me" ]; do sleep 0.01; done; }
            copy unshare --mount --propagation slave sleep 60; SLAVE=$COPY
            copy unshare --mount --propagation unchanged sleep 60; SHARED=$COPY
            unshare --net sleep 60 & P=$!; waitns $P
            nsfs() { for c in $SLAVE $SHARED $$; do echo "$1 in $c: $(awk -v m=/run/netns/$1 '$5 == m && / - nsfs / { n++ } END { print (n ? "nsfs" : "none") }' /proc/$c/mountinfo)"; done | sed "s/ in $SLAVE:/ in slave:/; s/ in $SHARED:/ in shared:/; s/ in $$:/ in own:/"; }
            run nns add $T-a
            nsfs $T-a
            run nns attach $T-b $P
            nsfs $T-b
            run nns delete $T-a
            nsfs $T-a
            run nns delete $T-b
            nsfs $T-b
            """);
        ip.StdOut.Should().Be("""
            rc=0
            T-a in slave: nsfs
            T-a in shared: nsfs
            T-a in own: nsfs
            rc=0
            T-b in slave: nsfs
            T-b in shared: nsfs
            T-b in own: nsfs
            rc=0
            T-a in slave: none
            T-a in shared: none
            T-a in own: none
            rc=0
            T-b in slave: none
            T-b in shared: none
            T-b in own: none

            """);
    }
}
