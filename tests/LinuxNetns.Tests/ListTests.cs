namespace LinuxNetns.Tests;

/// <summary>NetworkNamespace.List reads names from the run directory, as `ip netns list` does.</summary>
public sealed class ListTests
{
    [Fact]
    public void List_returns_every_entry_name_dot_names_included_and_nothing_for_a_missing_directory()
    {
        string dir = Directory.CreateTempSubdirectory("lnt-list-").FullName;
        try
        {
            foreach (string name in new[] { "a", ".hidden", "with space", "ünï" }) File.WriteAllBytes(Path.Combine(dir, name), []);
            var options = new NetworkNamespaceOptions { RunDirectory = dir };
            NetworkNamespace.List(options).Should().BeEquivalentTo("a", ".hidden", "with space", "ünï");

            var missing = new NetworkNamespaceOptions { RunDirectory = Path.Combine(dir, "missing") };
            NetworkNamespace.List(missing).Should().BeEmpty();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
