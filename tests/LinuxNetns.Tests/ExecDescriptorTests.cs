using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>Exec keeps no descriptor of a finished child: counted over the whole process, so run alone.</summary>
[Collection(ProcessWideCollection.Name)]
public sealed class ExecDescriptorTests : NamespaceTest
{
    private static int OpenPipes() =>
        Directory.GetFiles("/proc/self/fd").Count(fd =>
        {
            try { return File.ResolveLinkTarget(fd, returnFinalTarget: false)?.Name.StartsWith("pipe:") == true; }
            catch (IOException) { return false; } // closed while we looked
        });

    [RootFact]
    public async Task Two_hundred_runs_leave_no_pipe_open()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        (await ExecInNamespace.RunAsync(ns, "/bin/true", [])).ExitCode.Should().Be(0); // the runtime's own pipes, once
        int before = OpenPipes();
        for (int i = 0; i < 200; i++)
        {
            ExecResult r = await ExecInNamespace.RunAsync(ns, "/bin/echo", [i.ToString()]);
            r.StandardOutput.Should().Be($"{i}\n");
        }
        // No collection in between: the pipes must be closed by the run itself, not by finalizers.
        OpenPipes().Should().BeLessThanOrEqualTo(before, "each run closes its child's stdout and stderr pipes");
    }
}
