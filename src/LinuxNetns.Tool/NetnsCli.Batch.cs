using LinuxNetns;
using Microsoft.Win32.SafeHandles;

namespace Netns;

// -batch FILE [-force] and -netns NAME: ip's batch mode (ip/ip.c, lib/utils.c do_batch()) and ip's switch into a
// namespace before the command (lib/namespace.c netns_switch()).
internal sealed partial class NetnsCli
{
    /// <summary>The number of the batch line being run (its last physical line); null outside a batch.</summary>
    private int? _batchLine;

    /// <summary>
    /// <c>-batch FILE</c>: one command a line, "-" for standard input. A command that fails prints
    /// "Command failed FILE:LINE" and ends the batch with exit 1, or with <c>-force</c> the batch goes on and exits 1
    /// at the end. What is an exit() in ip (usage errors, invalid names, unknown commands, a split error, a command
    /// killed by a signal) ends the batch at once with its exit code, <c>-force</c> or not.
    /// </summary>
    private int Batch(string file)
    {
        using SafeFileHandle? handle = OpenBatchFile(file, out int? failed);
        if (failed is not null) return failed.Value;

        // A closed standard input reads as an empty batch, as in ip (whose read fails with EBADF).
        if (handle is null && !Native.IsInherited(0)) return 0;
        using var input = new FileStream(handle ?? new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        IpBatchReader reader = IpBatchReader.FromStream(input);
        int result = 0;
        while (true)
        {
            string? line = reader.ReadCommand(out string? readError);
            if (readError is not null) Error(readError);
            if (line is null) break;

            List<string>? words = IpBatch.MakeArgs(line, out string? splitError);
            if (words is null)
            {
                Error(splitError!);
                return Failure; // exit(1) in ip
            }
            if (words.Count == 0) continue; // blank line or only a comment

            _batchLine = reader.LineNumber;
            int code;
            try
            {
                code = RunBatchCommand(words);
            }
            finally
            {
                _batchLine = null;
            }
            if (code != 0)
            {
                Error($"Command failed {file}:{reader.LineNumber}");
                result = Failure;
                if (!_force) break;
            }
        }
        return result;
    }

    /// <summary>
    /// Opens the batch file as ip's freopen() does (open(2), read only, here O_CLOEXEC too); null for "-", standard
    /// input. A directory opens and reads as an empty batch, as in ip.
    /// </summary>
    private static SafeFileHandle? OpenBatchFile(string file, out int? failed)
    {
        failed = null;
        if (file == "-") return null;
        var handle = Native.OpenReadOnly(file, out Errno errno);
        if (errno == Errno.None) return handle;
        handle.Dispose();
        Error($"Cannot open file \"{file}\" for reading: {StrError(errno)}");
        failed = Failure;
        return null;
    }

    /// <summary>
    /// One batch line. A line of an <c>ip -batch</c> file starts with the object, <c>netns</c> (matched as ip
    /// matches objects: "net", "netn" and "netns"); a line may also hold a netns command alone. The first word is
    /// matched against ip's objects first, so that a line meant for another ip object is never read as a netns
    /// command ("a show" is ip's "address show", not "add show"): such a line fails (netns runs only netns
    /// commands), as does a word that is neither an ip object nor a netns command ("Object ... is unknown", as ip).
    /// Options (-j, -all, ...) are the batch's, given before -batch; inside a line they are unknown objects, as in ip.
    /// </summary>
    private int RunBatchCommand(List<string> words)
    {
        string first = words[0];
        string? ipObject = IpBatch.ObjectOf(first);
        string[] command;
        if (ipObject == "netns")
        {
            command = words.ToArray()[1..];
        }
        else if (ipObject == "help")
        {
            throw Help(); // ip's help object prints ip's usage and exits 255; this is netns's usage
        }
        else if (ipObject is not null)
        {
            string what = first == ipObject ? $"Object \"{first}\"" : $"Object \"{first}\" (ip's \"{ipObject}\")";
            Error($"{what} is not run by netns: a batch line holds a netns command, \"netns COMMAND ...\" or \"COMMAND ...\".");
            return Failure;
        }
        else if (IsNetnsCommand(first))
        {
            command = words.ToArray();
        }
        else
        {
            Error($"Object \"{first}\" is unknown, try \"netns help\".");
            return Failure;
        }

        try
        {
            return Dispatch(command);
        }
        catch (Exception e) when (e is NetworkNamespaceException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // As Run reports it: the library's message says what and why; the line failed.
            Error(e.Message);
            return Failure;
        }
    }

    /// <summary>The commands <see cref="Dispatch"/> knows, matched the same way.</summary>
    private static bool IsNetnsCommand(string word)
    {
        foreach (string command in (ReadOnlySpan<string>)
                 ["list", "show", "lst", "list-id", "help", "add", "set", "delete", "identify", "pids", "exec", "monitor", "attach", "discover", "completion"])
        {
            if (IpSyntax.Matches(word, command)) return true;
        }
        return false;
    }

    /// <summary>
    /// <c>-netns NAME</c> at <paramref name="at"/>: ip enters NAME there (its network namespace, a mount namespace
    /// of its own with a fresh /sys and the /etc/netns/NAME binds) and goes on. A .NET process cannot move itself
    /// (it is multithreaded, and unshare(CLONE_NEWNS) needs a single thread), so the tool runs itself again inside
    /// NAME, the way <c>exec NAME</c> starts a command, with the same arguments but <c>-netns NAME</c>, and exits
    /// with the child's exit code; the child inherits the standard streams.
    /// </summary>
    private int RunInNamespace(string[] args, int at)
    {
        if (at + 1 >= args.Length)
        {
            // ip reads past the end of its argv here and prints the NULL it finds.
            Error($"Cannot open network namespace \"(null)\": {StrError(Errno.ENOENT)}");
            return SwitchFailure;
        }
        string name = args[at + 1];
        string[] rest = [.. args.AsSpan(0, at), .. args.AsSpan(at + 2)];
        return ExecIn(name, [.. SelfCommand(), .. rest]);
    }

    /// <summary>
    /// How to start this tool again: its executable (a native build or the apphost), or, when it runs as
    /// <c>dotnet netns.dll</c>, the same <c>dotnet</c> host with the assembly beside it.
    /// </summary>
    private static string[] SelfCommand()
    {
        string process = Environment.ProcessPath
            ?? throw new IOException("Cannot run netns again inside the namespace for -netns: the path of this process is unknown (/proc/self/exe unreadable?).");
        string host = Path.GetFileNameWithoutExtension(process);
        if (host == "dotnet") return [process, Path.Combine(AppContext.BaseDirectory, "netns.dll")];
        return [process];
    }
}
