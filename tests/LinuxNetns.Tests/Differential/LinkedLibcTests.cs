using System.Text.RegularExpressions;
using LinuxNetns.Interop;

namespace LinuxNetns.Tests.Differential;

/// <summary>
/// The statically linked native netns gets the functions the library resolves by name from LinkedLibc.c: a name the
/// library adds and the table lacks would fail only in the native build, at its first switched call.
/// </summary>
public sealed class LinkedLibcTests
{
    [Fact]
    public void The_native_tools_table_holds_every_function_the_library_resolves()
    {
        string source = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "LinkedLibc.c"));
        var entries = Regex.Matches(source, @"\{\s*""(?<name>\w+)"",\s*\(void \*\)(?<function>\w+)\s*\}")
            .Select(m => (Name: m.Groups["name"].Value, Function: m.Groups["function"].Value))
            .ToList();

        entries.Should().OnlyContain(e => e.Name == e.Function, "each name is bound to the libc function of that name");
        entries.Select(e => e.Name).Should().BeEquivalentTo(SwitchedCalls.FunctionNames);
    }
}
