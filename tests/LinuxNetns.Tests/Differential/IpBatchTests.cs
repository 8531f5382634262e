using System.Text;
using Netns;

namespace LinuxNetns.Tests.Differential;

/// <summary>The tool's reimplementation of iproute2's batch syntax: getcmdline() and makeargs().</summary>
public sealed class IpBatchTests
{
    [Theory]
    [InlineData("netns list", new[] { "netns", "list" })]
    [InlineData("  netns \t list \r\n", new[] { "netns", "list" })]
    [InlineData("netns add \"a b\"", new[] { "netns", "add", "a b" })]
    [InlineData("netns add 'a \"b\" c'", new[] { "netns", "add", "a \"b\" c" })]
    [InlineData("exec x echo \"p q\"r s", new[] { "exec", "x", "echo", "p q", "r", "s" })]
    [InlineData("ab\"cd ef'", new[] { "ab\"cd", "ef'" })]
    [InlineData("a \"\" b", new[] { "a", "", "b" })]
    [InlineData("a\\ b", new[] { "a\\", "b" })]
    [InlineData("", new string[0])]
    [InlineData(" \t\r\n", new string[0])]
    public void MakeArgs_splits_at_blanks_and_quotes_without_escapes(string line, string[] expected)
    {
        IpBatch.MakeArgs(line, out string? error).Should().Equal(expected);
        error.Should().BeNull();
    }

    [Theory]
    [InlineData("netns add \"x")]
    [InlineData("netns add 'x\"")]
    [InlineData("a \"b\" \"")]
    public void MakeArgs_refuses_an_unterminated_quote(string line)
    {
        IpBatch.MakeArgs(line, out string? error).Should().BeNull();
        error.Should().Be("Unterminated quoted string");
    }

    [Fact]
    public void MakeArgs_takes_at_most_511_words()
    {
        string Words(int n) => string.Join(' ', Enumerable.Repeat("x", n));
        IpBatch.MakeArgs(Words(511), out string? error).Should().HaveCount(511);
        error.Should().BeNull();
        IpBatch.MakeArgs(Words(512), out error).Should().BeNull();
        error.Should().Be("Too many arguments to command");
        // Trailing blanks after the 511th word are no 512th word.
        IpBatch.MakeArgs(Words(511) + "   ", out error).Should().HaveCount(511);
    }

    [Theory]
    [InlineData("net", "netns")]
    [InlineData("netns", "netns")]
    [InlineData("n", "neighbor")]
    [InlineData("ne", "neighbor")]
    [InlineData("a", "address")]
    [InlineData("add", "address")]
    [InlineData("l", "link")]
    [InlineData("m", "maddress")]
    [InlineData("mo", "monitor")]
    [InlineData("help", "help")]
    [InlineData("list", null)]
    [InlineData("exec", null)]
    [InlineData("netnss", null)]
    [InlineData("", null)]
    public void ObjectOf_matches_ips_objects_in_ips_order(string word, string? expected) =>
        IpBatch.ObjectOf(word).Should().Be(expected);

    private static List<(string? Command, int Line, string? Error)> ReadAll(string text, int chunk = 4096)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        int at = 0;
        var reader = new IpBatchReader(buffer =>
        {
            int n = Math.Min(Math.Min(chunk, buffer.Length), bytes.Length - at);
            Array.Copy(bytes, at, buffer, 0, n);
            at += n;
            return n;
        });
        var result = new List<(string?, int, string?)>();
        while (true)
        {
            string? command = reader.ReadCommand(out string? error);
            result.Add((command, reader.LineNumber, error));
            if (command is null) return result;
        }
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(1)]
    public void ReadCommand_cuts_comments_joins_continuations_and_counts_physical_lines(int chunk)
    {
        ReadAll("a b\n# comment\n\nc # d \\\ne \\\n  f # g\nh \\\ni \\\nj", chunk).Should().Equal(
            ("a b\n", 1, null),
            ("", 2, null),
            ("\n", 3, null),
            ("c ", 4, null),          // the comment hides the backslash: no continuation
            ("e   f ", 6, null),       // joined: "e " + "  f " (the comment cut from the second line)
            ("h i j", 9, null),        // two continuations, the last line without a newline
            (null, 9, null));
    }

    [Fact]
    public void ReadCommand_reports_a_missing_continuation_line_as_the_end()
    {
        ReadAll("a\nb \\\n").Should().Equal(("a\n", 1, null), (null, 2, "Missing continuation line"));
    }

    [Fact]
    public void ReadCommand_ends_a_line_at_a_NUL_byte_and_keeps_a_backslash_without_newline()
    {
        ReadAll("a\0b\nc\\").Should().Equal(("a", 1, null), ("c\\", 2, null), (null, 2, null));
    }

    [Fact]
    public void ReadCommand_reads_UTF8_across_buffer_boundaries()
    {
        ReadAll("netns add ü-é\n", chunk: 1).Should().Equal(("netns add ü-é\n", 1, null), (null, 1, null));
    }
}
