using System.Diagnostics;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>
/// The script <c>netns completion bash</c> prints, run by a real bash: once as it is (no bash-completion package) and
/// once after bash-completion's own script, as an interactive shell with the package has it.
/// </summary>
public sealed class CompletionTests(CompletionScript script) : IClassFixture<CompletionScript>
{
    [Fact]
    public void Completion_bash_prints_the_script_and_other_shells_are_usage_errors()
    {
        ShellResult printed = CompletionScript.Netns("completion", "bash");
        printed.ExitCode.Should().Be(0, printed.StdErr);
        printed.StdErr.Should().BeEmpty();
        printed.StdOut.Should().StartWith("# bash completion for netns").And.EndWith("complete -F _netns netns\n");
        CompletionScript.Netns("compl", "bash").StdOut.Should().Be(printed.StdOut, "commands are matched by prefix");

        foreach (string[] args in new[] { new[] { "completion" }, ["completion", "zsh"], ["completion", "bash", "zsh"] })
        {
            ShellResult refused = CompletionScript.Netns(args);
            refused.ExitCode.Should().Be(255, string.Join(' ', args));
            refused.StdOut.Should().BeEmpty();
            refused.StdErr.Should().Contain("netns completion bash");
        }
        CompletionScript.Netns("help").StdErr.Should().Contain("\tnetns completion bash\n");
    }

    [Fact]
    public void The_script_is_valid_bash()
    {
        ShellResult check = Shell.Run("bash", "-n", script.Path);
        check.ExitCode.Should().Be(0, check.StdErr);
        check.StdErr.Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Commands_complete_by_prefix_in_the_tools_order(bool bashCompletion)
    {
        string[] all = ["list", "add", "attach", "set", "delete", "identify", "pids", "exec", "monitor", "list-id", "discover", "completion", "help"];
        script.Complete(bashCompletion, "netns", "").Should().BeEquivalentTo(all);
        script.Complete(bashCompletion, "netns", "ad").Should().Equal("add");
        script.Complete(bashCompletion, "netns", "d").Should().BeEquivalentTo("delete", "discover");
        script.Complete(bashCompletion, "netns", "a").Should().BeEquivalentTo("add", "attach");
        script.Complete(bashCompletion, "netns", "-j", "-p", "l").Should().BeEquivalentTo("list", "list-id");
        script.Complete(bashCompletion, "netns", "x").Should().BeEmpty();
        // After "--" a word is the command even when it starts with "-".
        script.Complete(bashCompletion, "netns", "--", "-").Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Options_complete_before_the_command(bool bashCompletion)
    {
        script.Complete(bashCompletion, "netns", "-").Should().BeEquivalentTo(
            "-json", "-pretty", "-all", "-Version", "-help", "-netns", "-batch", "-force");
        script.Complete(bashCompletion, "netns", "-j").Should().Equal("-json");
        script.Complete(bashCompletion, "netns", "-V").Should().Equal("-Version");
        script.Complete(bashCompletion, "netns", "-f").Should().Equal("-force");
        script.Complete(bashCompletion, "netns", "--p").Should().Equal("--pretty");
        script.Complete(bashCompletion, "netns", "-j", "-").Should().Contain("-pretty");
        script.Complete(bashCompletion, "netns", "-color", "=", "a").Should().BeEquivalentTo("always", "auto");
        // Options come only before the command.
        script.Complete(bashCompletion, "netns", "list", "-").Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Arguments_complete_per_command(bool bashCompletion)
    {
        script.Complete(bashCompletion, "netns", "set", "x", "").Should().Equal("auto");
        script.Complete(bashCompletion, "netns", "se", "x", "a").Should().Equal("auto");
        // "s" is list (ip's order), which takes nothing.
        script.Complete(bashCompletion, "netns", "s", "x", "").Should().BeEmpty();
        script.Complete(bashCompletion, "netns", "set", "x", "auto", "").Should().BeEmpty();

        script.Complete(bashCompletion, "netns", "list-id", "").Should().BeEquivalentTo("target-nsid", "nsid");
        script.Complete(bashCompletion, "netns", "list-id", "t").Should().Equal("target-nsid");
        script.Complete(bashCompletion, "netns", "list-id", "nsid", "").Should().BeEmpty("a number follows");
        script.Complete(bashCompletion, "netns", "list-id", "nsid", "3", "").Should().Equal("target-nsid");

        script.Complete(bashCompletion, "netns", "completion", "").Should().Equal("bash");
        script.Complete(bashCompletion, "netns", "c", "b").Should().Equal("bash");
        script.Complete(bashCompletion, "netns", "completion", "bash", "").Should().BeEmpty();

        script.Complete(bashCompletion, "netns", "list", "").Should().BeEmpty();
        script.Complete(bashCompletion, "netns", "monitor", "").Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Pids_complete_for_identify_and_attach(bool bashCompletion)
    {
        string me = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (string[] words in new[] { new[] { "netns", "identify", "" }, ["netns", "attach", "x", ""], ["netns", "identify", me] })
        {
            string[] pids = script.Complete(bashCompletion, words);
            pids.Should().Contain(me, string.Join(' ', words));
            pids.Should().OnlyContain(p => p.Length > 0 && p.All(char.IsAsciiDigit));
        }
        script.Complete(bashCompletion, "netns", "identify", "1", "").Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batch_completes_files(bool bashCompletion)
    {
        string dir = Directory.CreateTempSubdirectory("lnt-completion-").FullName;
        try
        {
            foreach (string f in new[] { "batch-one", "batch-two", "other" }) File.WriteAllText(Path.Combine(dir, f), "");
            script.Complete(bashCompletion, "netns", "-b", $"{dir}/ba").Should().BeEquivalentTo($"{dir}/batch-one", $"{dir}/batch-two");
            script.Complete(bashCompletion, "netns", "--batch", $"{dir}/o").Should().Equal($"{dir}/other");
            // The file is the option's value, the command comes after it.
            script.Complete(bashCompletion, "netns", "-b", $"{dir}/other", "ad").Should().Equal("add");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_command_after_exec_NAME_completes_as_a_command_line(bool bashCompletion)
    {
        string[] commands = script.Complete(bashCompletion, "netns", "exec", "x", "ls");
        commands.Should().Contain("ls").And.OnlyContain(c => c.StartsWith("ls", StringComparison.Ordinal));
        script.Complete(bashCompletion, "netns", "-all", "exec", "ls").Should().Contain("ls");
        script.Complete(bashCompletion, "netns", "-a", "e", "ls").Should().Contain("ls");
        script.Complete(bashCompletion, "netns", "-n", "x", "exec", "y", "ls").Should().Contain("ls");

        // Its arguments: files at least, and with bash-completion the command's own completion (ip's here).
        string dir = Directory.CreateTempSubdirectory("lnt-completion-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "exec-arg"), "");
            script.Complete(bashCompletion, "netns", "exec", "x", "cat", $"{dir}/ex").Should().Equal($"{dir}/exec-arg");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        if (bashCompletion) script.Complete(true, "netns", "exec", "x", "ip", "netn").Should().Equal("netns");
    }
}

/// <summary>Names from the run directory: real namespaces with this run's unique names.</summary>
public sealed class CompletionNameTests(CompletionScript script) : NamespaceTest, IClassFixture<CompletionScript>
{
    [RootTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Names_in_the_run_directory_complete_quoted_for_the_command_line(bool bashCompletion)
    {
        string plain = NewName("c");
        string spaced = NewName("c d");
        string dotted = "." + NewName("c");
        var made = new List<string>();
        try
        {
            foreach (string name in new[] { plain, spaced, dotted })
            {
                NetworkNamespace.Create(name).Dispose();
                made.Add(name);
            }
            string escapedSpaced = spaced.Replace(" ", "\\ ", StringComparison.Ordinal);

            foreach (string[] before in new[]
                     {
                         new[] { "netns", "delete" }, ["netns", "d"], ["netns", "pids"], ["netns", "exec"], ["netns", "set"],
                         ["netns", "attach"], ["netns", "-n"], ["netns", "--netns"], ["netns", "-j", "-netns"],
                     })
            {
                string[] words = [.. before, RunPrefix];
                script.Complete(bashCompletion, words).Should().BeEquivalentTo([plain, escapedSpaced], string.Join(' ', words));
            }
            script.Complete(bashCompletion, "netns", "delete", "." + RunPrefix).Should().Equal(dotted);
            // What was typed is unquoted before it is matched; after an opening quote the names are left as they are.
            script.Complete(bashCompletion, "netns", "delete", spaced[..^2].Replace(" ", "\\ ", StringComparison.Ordinal)).Should().Equal(escapedSpaced);
            script.Complete(bashCompletion, "netns", "delete", "'" + RunPrefix).Should().BeEquivalentTo(plain, spaced);

            // No name where a new one or none is wanted.
            script.Complete(bashCompletion, "netns", "add", RunPrefix).Should().BeEmpty();
            script.Complete(bashCompletion, "netns", "-all", "delete", RunPrefix).Should().BeEmpty();
            script.Complete(bashCompletion, "netns", "delete", plain, RunPrefix).Should().BeEmpty();
            // After -n NAME comes the command.
            script.Complete(bashCompletion, "netns", "-n", plain, "ad").Should().Equal("add");
        }
        finally
        {
            foreach (string name in made) NetworkNamespace.Delete(name);
        }
    }
}

/// <summary>The script printed by the built tool, in a file for bash to source.</summary>
public sealed class CompletionScript : IDisposable
{
    /// <summary>The package's main script, which defines _init_completion, _command_offset and their kin.</summary>
    public const string BashCompletion = "/usr/share/bash-completion/bash_completion";

    private readonly string _dir = Directory.CreateTempSubdirectory("lnt-completion-script-").FullName;

    public CompletionScript()
    {
        Path = System.IO.Path.Combine(_dir, "netns.bash");
        File.WriteAllText(Path, Netns("completion", "bash").EnsureSuccess().StdOut);
    }

    public string Path { get; }

    /// <summary><c>netns ARGS</c> with the tool built beside the tests.</summary>
    public static ShellResult Netns(params string[] args) => Differential.Differential.Netns(args);

    /// <summary>
    /// What the script offers for <paramref name="words"/>, the last being the word under the cursor (at its end), in a
    /// bash without startup files; with <paramref name="bashCompletion"/> after sourcing the package's script first.
    /// </summary>
    public string[] Complete(bool bashCompletion, params string[] words)
    {
        if (bashCompletion)
        {
            File.Exists(BashCompletion).Should().BeTrue($"the bash-completion package provides {BashCompletion} (.ci/run installs it)");
        }
        string line = string.Join(' ', words);
        string init = bashCompletion
            ? $"source {BashCompletion} || exit 97; declare -F _init_completion >/dev/null || exit 96"
            : "declare -F _init_completion >/dev/null && exit 96";
        string program = $$"""
            {{init}}
            source "$1" || exit 98
            COMP_WORDS=({{string.Join(' ', words.Select(Quote))}})
            COMP_CWORD={{words.Length - 1}}
            COMP_LINE={{Quote(line)}}
            COMP_POINT=${#COMP_LINE}
            COMPREPLY=()
            options=$(shopt -p)
            _netns || exit 95
            [[ $(shopt -p) == "$options" ]] || { echo "the shell's options changed" >&2; exit 94; }
            ((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}"
            exit 0
            """;
        ShellResult r = Shell.Run("bash", "--norc", "--noprofile", "-c", program, "completion-test", Path);
        r.ExitCode.Should().Be(0, $"completing \"{line}\": {r.StdErr}");
        return r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct().ToArray();
    }

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
