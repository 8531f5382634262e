using Netns;

namespace LinuxNetns.Tests.Differential;

/// <summary>The tool's reimplementation of iproute2's parsing rules and JSON layout.</summary>
public sealed class IpSyntaxTests
{
    [Theory]
    [InlineData("l", "list", true)]
    [InlineData("list", "list", true)]
    [InlineData("lists", "list", false)]
    [InlineData("", "list", false)]
    [InlineData("L", "list", false)]
    public void Matches_is_a_non_empty_prefix(string word, string command, bool expected) =>
        IpSyntax.Matches(word, command).Should().Be(expected);

    [Theory]
    [InlineData("42", 42)]
    [InlineData("  42", 42)]
    [InlineData("+42", 42)]
    [InlineData("-42", -42)]
    [InlineData("0x1f", 31)]
    [InlineData("0X1F", 31)]
    [InlineData("010", 8)]
    [InlineData("0", 0)]
    [InlineData("2147483647", int.MaxValue)]
    [InlineData("-2147483648", int.MinValue)]
    public void TryParseInt_reads_C_strtol_syntax(string text, int expected)
    {
        IpSyntax.TryParseInt(text, out int value).Should().BeTrue();
        value.Should().Be(expected);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("x")]
    [InlineData("42 ")]
    [InlineData("12abc")]
    [InlineData("08")]
    [InlineData("0x")]
    [InlineData("0xg")]
    [InlineData("2147483648")]
    [InlineData("-2147483649")]
    [InlineData("99999999999999999999999")]
    public void TryParseInt_refuses_what_strtol_does_not_consume_or_int_cannot_hold(string text) =>
        IpSyntax.TryParseInt(text, out _).Should().BeFalse();

    [Theory]
    [InlineData("4096", 4096u)]
    [InlineData("0x10", 16u)]
    [InlineData("010", 8u)]
    [InlineData("-0", 0u)]
    [InlineData(" +7", 7u)]
    [InlineData("4294967295", uint.MaxValue)]
    public void TryParseUnsigned_reads_C_strtoul_syntax(string text, uint expected)
    {
        IpSyntax.TryParseUnsigned(text, out uint value).Should().BeTrue();
        value.Should().Be(expected);
    }

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("-1")]
    [InlineData("4294967296")]
    [InlineData("12k")]
    public void TryParseUnsigned_refuses_what_get_unsigned_refuses(string text) =>
        IpSyntax.TryParseUnsigned(text, out _).Should().BeFalse();

    [Theory]
    [InlineData("", true)]
    [InlineData(".", true)]
    [InlineData("..", true)]
    [InlineData("a/b", true)]
    [InlineData("...", false)]
    [InlineData("a b", false)]
    public void IsInvalidName_follows_iproute2(string name, bool invalid) =>
        IpSyntax.IsInvalidName(name).Should().Be(invalid);

    [Fact]
    public void IsInvalidName_counts_bytes_not_characters()
    {
        IpSyntax.IsInvalidName(new string('ü', 127)).Should().BeFalse("254 bytes");
        IpSyntax.IsInvalidName(new string('ü', 128)).Should().BeTrue("256 bytes");
    }

    [Fact]
    public void Json_has_iproute2s_compact_and_pretty_layouts()
    {
        new IpJson(false).ToString().Should().Be("[]\n");
        new IpJson(true).ToString().Should().Be("[ ]\n");
        IpJson Two(bool pretty) => new IpJson(pretty).Object().Field("name", "b").Object().Field("name", "a\"\\\t'").Field("id", 5);
        Two(false).ToString().Should().Be("[{\"name\":\"b\"},{\"name\":\"a\\\"\\\\\\t'\",\"id\":5}]\n");
        Two(true).ToString().Should().Be("[ {\n        \"name\": \"b\"\n    },{\n        \"name\": \"a\\\"\\\\\\t'\",\n        \"id\": 5\n    } ]\n");
    }
}
