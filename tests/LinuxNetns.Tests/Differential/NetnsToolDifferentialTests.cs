using System.Reflection;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests.Differential;

/// <summary>
/// The <c>netns</c> tool against the real <c>ip netns</c>: every scenario runs once with each, in an isolated run
/// directory, and must print the same stdout and end with the same exit codes (and, where iproute2's error text is
/// promised, the same stderr: <c>run</c> lines include it).
/// </summary>
public sealed class NetnsToolDifferentialTests : NamespaceTest
{
    private readonly Differential _diff = new(RunPrefix);

    public override void Dispose()
    {
        _diff.Dispose();
        base.Dispose();
    }

    [RootFact]
    public void List_of_an_empty_run_directory()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns
            run nns list
            run nns show
            run nns -j list
            run nns -j -p list
            run nns --json list
            """);
        ip.StdOut.Should().Contain("[]\nrc=0\n[ ]\nrc=0\n");
    }

    [Fact]
    public void Version_names_the_library_as_ip_names_iproute2()
    {
        // The tool prints a constant made at build time (no reflection at start-up): built beside the tests, it must be
        // the library's package version; an installed tool is of the version it was packed as (.ci/tool-smoke checks
        // that one exactly), so only its shape is known here.
        string version = typeof(NetworkNamespace).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        foreach (string option in new[] { "-V", "-Version", "--V", "-Vers" })
        {
            ShellResult netns = Differential.Netns(option, "list");
            netns.ExitCode.Should().Be(0, option);
            netns.StdErr.Should().BeEmpty();
            if (Differential.InstalledTool is null)
                netns.StdOut.Should().Be($"netns utility, LinuxNetns-{version}\n", "-V prints the version and ends the command line, as in ip");
            else
                netns.StdOut.Should().MatchRegex(@"^netns utility, LinuxNetns-\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?\n$", "-V prints the version and ends the command line");
        }
        Shell.Run("ip", "-V").StdOut.Should().MatchRegex(@"^ip utility, iproute2-\S+", "the shape netns follows");
    }

    [RootFact]
    public void Add_list_and_delete()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns add $T-a
            run nns add $T-b
            run nns list
            run nns -j list
            run nns -json -pretty show
            run nns lst
            run nns l
            run nns delete $T-a
            run nns list
            run nns del $T-b
            run nns -j list
            run nns list
            """);
        ip.StdOut.Should().StartWith("rc=0\nrc=0\nT-b\nT-a\nrc=0\n");
    }

    [RootFact]
    public void Names_with_quotes_tabs_backslashes_and_non_ascii_in_text_and_json()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns add "$T-q\"x"
            run nns add "$T-b\\s"
            run nns add "$T-t$(printf '\t')ab"
            run nns add "$T-a'b"
            run nns add "$T-ü"
            run nns list
            run nns -j list
            run nns -j -p list
            run nns -all delete
            """);
        ip.StdOut.Should().Contain("{\"name\":\"T-q\\\"x\"}");
    }

    [RootFact]
    public void Add_of_an_existing_name()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns add $T-a
            run nns add $T-a
            run nns a $T-a
            run nns list
            run nns delete $T-a
            """);
        ip.StdOut.Should().Contain("stderr: Cannot create namespace file \"/run/netns/T-a\": File exists");
    }

    [RootFact]
    public void Bad_names_are_refused_before_anything_else()
    {
        var (ip, _) = _diff.AssertSame("""
            long=$(printf 'n%.0s' $(seq 256))
            run nns add ..
            run nns add .
            run nns add x/y
            run nns add ''
            run nns add $long
            run nns add ${long:1}
            run nns list
            run nns delete ..
            run nns pids ''
            run nns identify ''
            run nns exec .. true
            run nns list ..
            run nns foo ..
            run nns attach ../x 1
            run nns -all delete ..
            run nns list
            """);
        ip.StdOut.Should().Contain("rc=255\nstderr: Invalid netns name \"..\"\n");
        ip.StdOut.Should().Contain("stderr: Invalid netns name \"x/y\"");
    }

    [RootFact]
    public void Missing_names_missing_arguments_and_bad_pids()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns delete $T-none
            run nns delete
            run nns add
            run nns pids
            run nns pids $T-none
            run nns pids $T-a $T-b
            run nns attach $T-x
            run nns attach $T-x notapid
            run nns attach $T-x 0
            run nns attach $T-x 12abc
            run nns attach $T-x 999999999
            run nns attach $T-x -5
            run nns identify 1 2
            run nns identify abc
            run nns identify -1
            run nns identify 999999999
            run nns list
            """);
        ip.StdOut.Should().Contain("stderr: Cannot remove namespace file \"/run/netns/T-none\": No such file or directory");
        ip.StdOut.Should().Contain("stderr: Bind /proc/999999999/ns/net -> /run/netns/T-x failed: No such file or directory");
    }

    [RootFact]
    public void Attach_identify_and_pids_of_a_process_in_a_namespace()
    {
        var (ip, _) = _diff.AssertSame("""
            unshare --net sleep 600 >/dev/null 2>&1 & P=$!
            waitns $P
            run nns pids $T-c
            run nns attach $T-c $P
            run nns list
            run nns identify $P
            run nns pids $T-c | sed "s/^$P\$/PID/"
            run nns identify
            run nns identify $$ | sed "s/^$$\$/SELF/"
            run nns attach $T-c $P
            run nns attach $T-d 0x$(printf %x $P)
            run nns list
            run nns identify $P
            run nns identify 0$P
            run nns add $T-e
            run nns pids $T-e
            kill $P; wait $P 2>/dev/null
            run nns pids $T-c
            run nns delete $T-c
            run nns delete $T-d
            run nns delete $T-e
            run nns list
            """);
        ip.StdOut.Should().Contain("T-c\nrc=0\nPID\nrc=0\n\nrc=0\n");
    }

    [RootFact]
    public void All_delete_removes_every_name_of_the_private_run_directory()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns add $T-a
            run nns add $T-b
            run nns add $T-c
            run nns -all delete
            run nns list
            run nns -j list
            run nns -all delete
            run nns -a del $T-not-there
            run nns add $T-d
            run nns --all d
            run nns list
            """);
        ip.StdOut.Should().StartWith("rc=0\nrc=0\nrc=0\nrc=0\nrc=0\n[]\nrc=0\n");
    }

    [RootFact]
    public void Set_and_list_with_ids()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns add $T-a
            run nns add $T-b
            run nns add $T-c
            run nns set $T-a 5
            run nns list
            run nns -j list
            run nns -j -p list
            run nns set $T-b auto
            run nns show
            run nns set $T-a 9
            run nns set $T-c 5
            run nns set $T-none 7
            run nns set $T-a x
            run nns set $T-a -3
            run nns set $T-a 0x
            run nns set $T-a
            run nns set
            run nns set $T-c 0x10
            run nns se $T-c 3
            run nns list
            run nns -j list
            """);
        ip.StdOut.Should().Contain("T-a (id: 5)").And.Contain("{\"name\":\"T-a\",\"id\":5}");
    }

    [RootFact]
    public void List_id_with_and_without_filters()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns list-id
            run nns -j list-id
            run nns add $T-a
            run nns add $T-b
            run nns add $T-c
            run nns set $T-a 5
            run nns set $T-b auto
            run nns set $T-c 12
            run nns list-id
            run nns -j list-id
            run nns -j -p list-id
            run nns list-id nsid 5
            run nns -j list-id nsid 0
            run nns list-id nsid 6
            # a peer's own ids, seen from here: target-nsid
            run nsenter --net=/run/netns/$T-a nns set $T-b 3
            run nsenter --net=/run/netns/$T-a nns set $T-c auto
            run nsenter --net=/run/netns/$T-a nns list-id
            run nns list-id target-nsid 5
            run nns -j list-id target-nsid 5
            run nns list-id target-nsid 5 nsid 12
            run nns list-id target-nsid 5 nsid 5
            run nns -j list-id target-nsid 5 nsid 5
            run nns list-id target-nsid 0
            run nns list-id target-nsid 77
            run nns list-id target-nsid 77 nsid 5
            # an nsid whose namespace has no name (any more)
            unshare --net sleep 600 >/dev/null 2>&1 & P=$!
            waitns $P
            run nns attach $T-p $P
            run nns set $T-p 40
            run nns delete $T-p
            run nns list-id
            run nns -j list-id
            run nns list-id nsid 40
            # argument errors
            run nns list-id nsid
            run nns list-id nsid 1 nsid 2
            run nns list-id target-nsid 1 target-nsid 2
            run nns list-id nsid x
            run nns list-id target-nsid y
            run nns list-id nsid -1
            run nns list-id nsid -1 more
            out nns list-id foo
            run nns list-
            run nns list-i
            """);
        ip.StdOut.Should().Contain("nsid 5 (iproute2 netns name: T-a)\n").And.Contain("nsid 40 \n");
    }

    [RootFact]
    public void Exec_of_commands_that_succeed_fail_or_do_not_exist()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns add $T-a
            run nns exec $T-a ls /sys/class/net
            run nns exec $T-a ip -o link show
            run nns exec $T-a false
            run nns exec $T-a sh -c 'echo out; echo err >&2; exit 7'
            run nns e $T-a true
            run nns exec $T-a /nonexistent
            run nns exec $T-a no-such-command-lnt
            run nns exec $T-a
            run nns exec
            run nns exec $T-none true
            touch /run/netns/$T-stale
            run nns exec $T-stale true
            run nns exec $T-a sh -c 'kill -TERM $$'
            run nns exec $T-a nns identify
            run nns exec $T-a sh -c "nns pids $T-a > $ERR.pids; wc -l < $ERR.pids"
            run nns exec $T-a sh -c 'cat /sys/class/net/lo/operstate'
            run setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp nns exec $T-a true
            run nns delete $T-stale
            run nns delete $T-a
            """);
        ip.StdOut.Should().StartWith("rc=0\nlo\nrc=0\n");
        ip.StdOut.Should().Contain("out\nrc=7\nstderr: err\n");
        ip.StdOut.Should().Contain("rc=1\nstderr: exec of \"/nonexistent\" failed: No such file or directory\n");
        ip.StdOut.Should().Contain("rc=255\nstderr: Cannot open network namespace \"T-none\": No such file or directory\n");
        ip.StdOut.Should().Contain("T-a\nrc=0\n");
    }

    [RootFact]
    public void Exec_runs_a_script_without_an_interpreter_line_with_bin_sh()
    {
        // ip execs with execvp, which hands a file the kernel cannot execute (ENOEXEC) to /bin/sh: alone, for -all and
        // in a batch (where both tools start a child).
        var (ip, _) = _diff.AssertSame("""
            run nns add $T-a
            mkdir "$ERR.d" && cd "$ERR.d"
            printf 'echo "script $# $1 $0"\nls /sys/class/net\n' > script && chmod +x script
            run nns exec $T-a ./script one two
            printf '\177ELF-not-really' > binary && chmod +x binary
            run nns exec $T-a ./binary
            run nns -all exec ./script all
            printf 'netns exec %s ./script batch\nnetns exec %s ./binary\n' $T-a $T-a > batch
            run nns -batch batch
            cd / && rm -r "$ERR.d"
            run nns delete $T-a
            """);
        ip.StdOut.Should().Contain("rc=0\nscript 2 one ./script\nlo\nrc=0\n").And.Contain("rc=127\nstderr: ./binary: 1:")
            .And.Contain("script 1 all ./script\nlo\n").And.Contain("script 1 batch ./script\nlo\n");
    }

    [RootFact]
    public void Exec_becomes_the_command_with_no_signal_blocked_or_ignored()
    {
        // ip netns exec NAME cmd replaces ip with cmd: the command is the process the script started, and it inherits
        // no signal state from the tool (the .NET runtime ignores SIGPIPE and masks signals on its threads). This test
        // harness ignores SIGPIPE itself (a .NET parent), which ip would pass on: the tool is started as a shell starts
        // it, with SIGPIPE at its default (docs/netns-tool.md, "Differences").
        var (ip, _) = _diff.AssertSame("""
            run nns add $T-a
            run nns exec $T-a sh -c 'if [ "$PPID" = "$1" ]; then echo replaced; else echo "a child of another"; fi' sh $$
            run env --default-signal=PIPE nns exec $T-a sh -c 'grep -E "^Sig(Blk|Ign)" /proc/self/status'
            run nns delete $T-a
            """);
        ip.StdOut.Should().Contain("replaced\nrc=0\n").And.Contain("SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
    }

    [RootFact]
    public void Exec_leaves_nothing_of_the_tool_in_the_temporary_directory()
    {
        // A .NET process removes its debugger pipes and diagnostic socket from TMPDIR when it shuts down; one that
        // becomes the command (execve) never shuts down, so the tool removes its own first. (The NativeAOT tool makes none.)
        _diff.AssertSame("""
            export TMPDIR=$W/tmp
            mkdir "$TMPDIR"
            run nns add $T-a
            run nns exec $T-a sh -c 'ls -A "$TMPDIR"; echo listed'
            run nns exec $T-a true
            out ls -A "$TMPDIR"
            run nns delete $T-a
            """);
    }

    [RootFact]
    public void Exec_binds_etc_netns_entries_and_warns_about_missing_targets()
    {
        // A private copy of /etc (in this mount namespace only) with an /etc/netns of the test's own.
        var (ip, _) = _diff.AssertSame("""
            mkdir -p "$ERR.etc" && mount -t tmpfs lnt-etc "$ERR.etc"
            cp -a /etc/. "$ERR.etc/" 2>/dev/null
            mount --bind "$ERR.etc" /etc
            mkdir -p /etc/netns/$T-a
            echo "lnt-netns-hostname" > /etc/netns/$T-a/hostname
            echo "nameserver 192.0.2.53" > /etc/netns/$T-a/resolv.conf
            echo x > /etc/netns/$T-a/lnt-not-in-etc
            run nns add $T-a
            run nns exec $T-a cat /etc/hostname
            run nns exec $T-a cat /etc/resolv.conf
            run nns exec $T-a ls /etc/lnt-not-in-etc
            run nns delete $T-a
            """);
        ip.StdOut.Should().Contain("lnt-netns-hostname\nrc=0\n");
        ip.StdOut.Should().Contain($"stderr: Bind /etc/netns/T-a/lnt-not-in-etc -> /etc/lnt-not-in-etc failed: No such file or directory");
    }

    [RootFact]
    public void All_exec_runs_in_every_namespace_of_the_private_run_directory()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns -all exec true
            run nns add $T-a
            run nns add $T-b
            run nns add $T-c
            run nns -all exec ls /sys/class/net
            run nns -all exec sh -c 'echo hi; exit 3'
            run nns -all exec nns identify
            run nns -all exec no-such-command-lnt
            run nns -a e
            run nns -all exec
            run nns -all delete
            run nns -all exec true
            """);
        ip.StdOut.Should().Contain("\nnetns: T-c\nlo\n\nnetns: T-b\nlo\n\nnetns: T-a\nlo\nrc=0\n");
    }

    [RootFact]
    public void An_unprivileged_user_can_list_but_not_change()
    {
        var (ip, _) = _diff.AssertSame("""
            nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp DOTNET_CLI_HOME=/tmp "$@"; }
            run nns add $T-a
            run nns set $T-a 4
            run nobody nns list
            run nobody nns -j list
            run nobody nns list-id
            run nobody nns identify
            run nobody nns add $T-b
            run nobody nns delete $T-a
            run nobody nns set $T-a 5
            run nns list
            run nns delete $T-a
            """);
        ip.StdOut.Should().Contain("stderr: mount --make-shared /run/netns failed: Operation not permitted");
    }

    [RootFact]
    public void Prefix_matching_options_help_and_unknown_commands()
    {
        _diff.AssertSame("""
            run nns add $T-a
            run nns li
            run nns sh
            run nns s
            run nns ls
            run nns -j -p -a list
            run nns -js li
            out nns -x list
            out nns help
            out nns h
            out nns
            out nns foo
            out nns ''
            out nns addd $T-b
            run nns ad $T-b
            run nns de $T-b
            run nns d $T-a
            run nns list
            run nns -- list
            """);
    }

    [RootFact]
    public void Options_with_values_are_read_and_checked_as_ip_does()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns add $T-a
            run nns -r list
            run nns -rc 4096 list
            run nns -rcvbuf 0x10 -j list
            run nns -rc -0 list
            run nns -rc x list
            run nns -rc -1 list
            run nns -family inet list
            run nns -f bridge list
            run nns -f mpls list
            run nns -family foo list
            run nns -family ipx list
            run nns -l 3 list
            run nns -loops x list
            run nns delete $T-a
            """);
        ip.StdOut.Should().Contain("rc=0\nT-a\nrc=0\nT-a\nrc=0\n[{\"name\":\"T-a\"}]\n");
        ip.StdOut.Should().Contain("rc=255\nstderr: Invalid rcvbuf size 'x'\n");
    }

    [RootFact]
    public void Monitor_of_either_tool_reports_the_changes_made_by_both()
    {
        // One run: both monitors watch the same private run directory while both tools change it.
        ScriptResult r = _diff.RunWith("netns", """
            watching() { for i in $(seq 3000); do grep -qs '^inotify wd:' /proc/$1/fdinfo/* && return 0; sleep 0.01; done; return 1; }
            lines() { for i in $(seq 3000); do [ "$(wc -l < "$1")" -ge "$2" ] && return 0; sleep 0.01; done; return 1; }
            stdbuf -oL ip netns monitor > "$ERR.ip" & I=$!
            netns monitor > "$ERR.nn" & N=$!
            watching $I && watching $N || { echo "a monitor never started watching"; exit 1; }
            ip netns add $T-x
            netns add $T-y
            ip netns delete $T-y
            netns delete $T-x
            unshare --net sleep 600 >/dev/null 2>&1 & P=$!
            waitns $P
            netns attach $T-z $P
            ip netns delete $T-z
            kill $P
            lines "$ERR.ip" 6 && lines "$ERR.nn" 6 || echo "not every event arrived"
            kill -TERM $I $N
            wait $I; echo "ip monitor rc=$?"
            wait $N; echo "netns monitor rc=$?"
            echo "--- ip netns monitor"; cat "$ERR.ip"
            echo "--- netns monitor"; cat "$ERR.nn"
            """);
        const string events = "add T-x\nadd T-y\ndelete T-y\ndelete T-x\nadd T-z\ndelete T-z\n";
        r.StdOut.Should().Be("ip monitor rc=143\nnetns monitor rc=143\n--- ip netns monitor\n" + events + "--- netns monitor\n" + events, r.StdErr);
        r.ExitCode.Should().Be(0, r.StdErr);
    }
}
