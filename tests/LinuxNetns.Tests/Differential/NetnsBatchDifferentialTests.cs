using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests.Differential;

/// <summary>
/// <c>-netns NAME</c> and <c>-batch FILE</c>/<c>-force</c> against the real ip: the same stdout, stderr (in
/// <c>run</c> lines) and exit codes. Where the two tools' texts differ on purpose (the help hint names "netns help"
/// instead of "ip help" / "ip netns help"), the script rewrites ip's hint before comparing (<c>norm</c>) and the
/// test asserts ip's own text separately.
/// </summary>
public sealed class NetnsBatchDifferentialTests : NamespaceTest
{
    private readonly Differential _diff = new(RunPrefix);

    // The help hints, ip's rewritten to the tool's.
    private const string Norm = """
        norm() { sed -e 's/try "ip help"/try "netns help"/' -e 's/try "ip netns help"/try "netns help"/'; }

        """;

    public override void Dispose()
    {
        _diff.Dispose();
        base.Dispose();
    }

    [RootFact]
    public void Netns_option_runs_list_list_id_and_identify_from_inside_NAME()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns add $T-a
            run nns add $T-b
            run nns add $T-c
            run nns set $T-a 5
            run nns -n $T-a set $T-b 7
            run nns -netns $T-a set $T-c 9
            run nns list
            run nns -n $T-a list
            run nns -n $T-a -j list
            run nns -j -n $T-a list
            run nns list-id
            run nns -n $T-a list-id
            run nns --netns $T-a list-id nsid 9
            run nns -n $T-b list-id
            run nns identify
            run nns -n $T-a identify
            run nns -n $T-b identify
            run nns -n $T-a -n $T-b identify
            run nns -n $T-a pids $T-none
            run nns -n $T-a bogus-command | norm
            run nns -all delete
            """.Insert(0, Norm));
        ip.StdOut.Should().Contain("nsid 7 (iproute2 netns name: T-b)\nnsid 9 (iproute2 netns name: T-c)\nrc=0\n");
        ip.StdOut.Should().Contain("T-c (id: 9)\nT-b (id: 7)\nT-a\nrc=0\n");
        ip.StdOut.Should().Contain("rc=0\nT-a\nrc=0\nT-b\nrc=0\nT-b\nrc=0\n");
    }

    [RootFact]
    public void Netns_option_with_a_missing_or_invalid_name()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns add $T-a
            run nns -n $T-none list
            run nns -n $T-none add $T-x
            run nns -n '' list
            run nns -n ../$T-none list
            run nns -n $T-a -n $T-none list
            run nns list
            """);
        ip.StdOut.Should().Contain("rc=255\nstderr: Cannot open network namespace \"T-none\": No such file or directory\n");
        ip.StdOut.Should().Contain("rc=255\nstderr: setting the network namespace \"\" failed: Invalid argument\n");
    }

    [RootFact]
    public void Netns_option_with_exec()
    {
        var (ip, _) = _diff.AssertSame("""
            run nns add $T-a
            run nns add $T-b
            run nns -n $T-a exec $T-b nns identify
            run nns -n $T-a exec $T-a sh -c 'echo out; echo err >&2; exit 3'
            run nns -n $T-a exec $T-b ls /sys/class/net
            run nns -n $T-a exec $T-none true
            run nns -n $T-a exec $T-b $T-no-such-program
            run nns -n $T-b -all exec nns identify
            run nns -all delete
            """);
        ip.StdOut.Should().Contain("T-b\nrc=0\nout\nrc=3\nstderr: err\nlo\nrc=0\n");
        ip.StdOut.Should().Contain("stderr: exec of \"T-no-such-program\" failed: No such file or directory");
    }

    [RootFact]
    public void Batch_file_with_comments_blank_lines_continuations_quotes_and_line_numbers()
    {
        var (ip, _) = _diff.AssertSame("""
            cd "$W"
            cat > b1 <<EOF
            # a comment line
            netns add $T-a

               # an indented comment
            netns add "$T-b c"   # a comment after the command
            netns \\
              add $T-d
            net list
            netns$(printf '\t')add$(printf '\t')'$T-"q"'
            netns delete $T-none
            netns list
            EOF
            run nns -b b1
            run nns list
            run nns -force -b b1
            run nns -force -batch ./b1
            run nns list
            run nns -all delete
            """);
        ip.StdOut.Should().Contain("stderr: Cannot remove namespace file \"/run/netns/T-none\": No such file or directory\nstderr: Command failed b1:10\n");
        ip.StdOut.Should().Contain("stderr: Command failed b1:7\n");
        ip.StdOut.Should().Contain("stderr: Command failed ./b1:2\n");
    }

    [RootFact]
    public void Batch_from_standard_input_with_and_without_force()
    {
        var (ip, _) = _diff.AssertSame("""
            printf 'netns add %s-a\nbogus 1\nnetns list\n' $T | run nns -b - | norm
            run nns list
            printf 'netns add %s-a\nbogus 1\n-j netns list\nnetns delete %s-none\nnetns list\n\n' $T $T | run nns -force -b - | norm
            printf 'netns list\nnetns list\n' | run nns -j -b -
            printf 'netns list\n' | run nns -batch -
            printf 'netns delete %s-none\n' $T | run nns -b -
            printf '' | run nns -b -
            printf '# only a comment' | run nns -b -
            printf 'netns identify' | run nns -b -
            printf 'netns add %s-z \\\n' $T | run nns -force -b -
            run nns list
            run nns -all delete
            """.Insert(0, Norm));
        ip.StdOut.Should().Contain("stderr: Command failed -:2\n");
        ip.StdOut.Should().Contain("rc=0\nstderr: Missing continuation line\n");
        ip.StdOut.Should().NotContain("T-z");
    }

    [RootFact]
    public void Batch_ends_at_an_exit_path_whatever_force_says()
    {
        var (ip, _) = _diff.AssertSame("""
            cd "$W"
            run nns add $T-a
            printf 'netns add %s-b\nnetns add ..\nnetns add %s-c\n' $T $T | run nns -force -b -
            printf 'netns list-id nsid x\nnetns add %s-c\n' $T | run nns -force -b -
            printf 'netns list-id bogus\nnetns add %s-c\n' $T | out nns -force -b -
            printf 'netns help\nnetns add %s-c\n' $T | out nns -force -b -
            printf 'help\nnetns add %s-c\n' $T | out nns -force -b -
            printf 'netns bogus\nnetns add %s-c\n' $T | run nns -force -b - | norm
            printf 'netns add "%s-c\nnetns add %s-d\n' $T $T | run nns -force -b -
            printf '%s\n' "netns exec $T-a sh -c 'kill -KILL \$\$'" "netns add $T-e" | run nns -force -b -
            words=$(printf ' x%.0s' $(seq 510))
            printf 'netns list%s\nnetns add %s-f\n' "$words" $T | run nns -force -b -
            words=$(printf ' x%.0s' $(seq 509))
            printf 'netns list%s\nnetns add %s-g\n' "$words" $T | run nns -force -b -
            run nns list
            run nns -all delete
            """.Insert(0, Norm));
        ip.StdOut.Should().Contain("rc=255\nstderr: Invalid netns name \"..\"\n");
        ip.StdOut.Should().Contain("rc=1\nstderr: Unterminated quoted string\n");
        ip.StdOut.Should().Contain("rc=1\nstderr: Too many arguments to command\n");
        ip.StdOut.Should().Contain("stderr: Error: argument \"x\" is wrong: \"nsid\" value is invalid\n");
        ip.StdOut.Should().Contain("T-g\nT-b\nT-a\nrc=0\n");
    }

    [RootFact]
    public void Batch_exec_lines()
    {
        var (ip, _) = _diff.AssertSame("""
            cd "$W"
            run nns add $T-a
            run nns add $T-b
            cat > b2 <<'EOF'
            netns exec T-a false
            netns exec T-a sh -c 'echo before; exit 3'
            netns exec T-a echo hi
            netns exec T-b nns identify
            netns exec T-a T-no-such-program
            netns list
            EOF
            sed -i "s/T-/$T-/g" b2
            run nns -force -b b2
            run nns -b b2
            printf 'netns exec %s-none true\nnetns list\n' $T | run nns -b -
            printf 'netns exec echo x\nnetns exec nns identify\n' | run nns -all -b -
            run nns -all delete
            """);
        ip.StdOut.Should().Contain("stderr: Command failed b2:1\nstderr: Command failed b2:2\nstderr: exec of \"T-no-such-program\" failed: No such file or directory\nstderr: Command failed b2:5\n");
        ip.StdOut.Should().Contain("rc=1\nstderr: Cannot open network namespace \"T-none\": No such file or directory\nstderr: Command failed -:1\nstderr: Command failed -:1\n");
        ip.StdOut.Should().Contain("\nnetns: T-b\nx\n");
    }

    [RootFact]
    public void Batch_file_that_cannot_be_read_and_batch_inside_a_namespace()
    {
        var (ip, _) = _diff.AssertSame("""
            cd "$W"
            run nns add $T-a
            run nns add $T-b
            run nns -n $T-a set $T-b 3
            run nns -b /$T-none
            run nns -force -b none
            touch plain
            run nns -b plain/x
            run nns -b "$W"
            printf 'netns list-id\nnetns identify\nnetns list\n' > b3
            run nns -n $T-a -b b3
            run nns -b b3 -n $T-a
            printf 'netns identify\n' | run nns -n $T-b -b -
            run nns -all delete
            """);
        ip.StdOut.Should().Contain("stderr: Cannot open file \"none\" for reading: No such file or directory\n");
        ip.StdOut.Should().Contain("stderr: Cannot open file \"plain/x\" for reading: Not a directory\n");
        ip.StdOut.Should().Contain("nsid 3 (iproute2 netns name: T-b)\nT-a\nT-b (id: 3)\nT-a\nrc=0\n");
    }

    /// <summary>What only the tool does (ip runs other objects; the wrapper cannot leave -netns without a name).</summary>
    [RootFact]
    public void Tool_only_bare_commands_other_ip_objects_and_options_without_a_value()
    {
        ScriptResult nn = _diff.RunWith("netns", """
            run nns add $T-a
            printf 'add %s-b\nlist\nidentify\nexec %s-a echo bare\nlink show\na show\nl\nhelp-me\n' $T $T | run nns -force -b -
            run nns -n
            run nns -b
            run nns list
            """);
        nn.ExitCode.Should().Be(0, nn.StdErr);
        nn.StdOut.Should().StartWith(
            "rc=0\nT-a\n\nbare\nrc=1\n" +
            "stderr: Object \"add\" (ip's \"address\") is not run by netns: a batch line holds a netns command, \"netns COMMAND ...\" or \"COMMAND ...\".\n" +
            "stderr: Command failed -:1\n" +
            "stderr: Object \"link\" is not run by netns: a batch line holds a netns command, \"netns COMMAND ...\" or \"COMMAND ...\".\n" +
            "stderr: Command failed -:5\n");
        nn.StdOut.Should().Contain("stderr: Object \"a\" (ip's \"address\") is not run by netns");
        nn.StdOut.Should().Contain("stderr: Object \"l\" (ip's \"link\") is not run by netns");
        nn.StdOut.Should().Contain("stderr: Object \"help-me\" is unknown, try \"netns help\".\nstderr: Command failed -:8\n");
        nn.StdOut.Should().Contain("rc=255\nstderr: Cannot open network namespace \"(null)\": No such file or directory\n");
        nn.StdOut.Should().Contain("rc=255\nstderr: Usage:\tnetns list\n");
        nn.StdOut.Should().EndWith("T-a\nrc=0\n");
    }
}
