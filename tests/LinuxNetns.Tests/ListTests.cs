using LinuxNetns.Tests.Infrastructure;

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
            var notADirectory = new NetworkNamespaceOptions { RunDirectory = Path.Combine(dir, "a") };
            NetworkNamespace.List(notADirectory).Should().BeEmpty("a run directory that is a file lists nothing, as ip's opendir fails");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void List_of_a_directory_larger_than_one_read_is_in_readdir_order_like_ls_f()
    {
        // 600 names of 60 bytes take several getdents64 calls; ls -f prints readdir order, "." and ".." included.
        string dir = Directory.CreateTempSubdirectory("lnt-list-").FullName;
        try
        {
            for (int i = 0; i < 600; i++) File.WriteAllBytes(Path.Combine(dir, $"{i:D4}-{new string('n', 55)}"), []);
            Directory.CreateDirectory(Path.Combine(dir, "subdirectory"));
            string[] readdir = Shell.Run("ls", "-f", dir).EnsureSuccess().StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(n => n is not ("." or "..")).ToArray();
            readdir.Should().HaveCount(601);
            NetworkNamespace.List(new NetworkNamespaceOptions { RunDirectory = dir }).Should().Equal(readdir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
