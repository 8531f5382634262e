using System.Runtime.InteropServices;
using LinuxNetns;

namespace Netns;

/// <summary>
/// The command line of <c>ip [OPTIONS] netns COMMAND</c>, as <c>netns [OPTIONS] COMMAND</c>: the options and
/// commands are matched by prefix in iproute2's order, and every command prints what iproute2 prints, to the same
/// stream, with the same exit code (ip/ipnetns.c, ip/ip.c of iproute2 6.x).
/// </summary>
internal sealed partial class NetnsCli
{
    // iproute2's exit codes: a command that returns -1 exits 1; usage errors call exit(-1), i.e. 255.
    private const int Failure = 1;
    private const int UsageFailure = 255;

    private readonly NetworkNamespaceOptions _options = NetworkNamespaceOptions.Default;
    private bool _json;
    private bool _pretty;
    private bool _all;
    private bool _force;
    private string? _batchFile;

    private string RunDirectory => _options.RunDirectory;

    private string PathOf(string name) => $"{RunDirectory}/{name}";

    public static int Run(string[] args)
    {
        var cli = new NetnsCli();
        try
        {
            int first = cli.ParseOptions(args, out int? exit, out int? netnsOption);
            if (exit is not null) return exit.Value;
            // -n NAME: the rest of the command line runs in NAME (a child of ours, what ip's netns_switch() is).
            if (netnsOption is int at) return cli.RunInNamespace(args, at);
            if (cli._batchFile is { } file) return cli.Batch(file);
            return cli.Dispatch(args[first..]);
        }
        catch (ExitException e)
        {
            return e.Code;
        }
        catch (Exception e) when (e is NetworkNamespaceException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // A failure no iproute2 text covers: the library's message says what and why.
            Error(e.Message);
            return Failure;
        }
    }

    /// <summary>
    /// ip.c's option loop: "--" ends it, "--opt" is "-opt", each option matched by prefix in ip's order. It stops at
    /// <c>-netns NAME</c> (<paramref name="netnsOption"/> is its index): ip switches there, and the options after it
    /// are the child's to read.
    /// </summary>
    private int ParseOptions(string[] args, out int? exit, out int? netnsOption)
    {
        exit = null;
        netnsOption = null;
        int i = 0;
        for (; i < args.Length; i++)
        {
            string opt = args[i];
            if (opt == "--")
            {
                i++;
                break;
            }
            if (!opt.StartsWith('-')) break;
            if (opt.StartsWith("--", StringComparison.Ordinal)) opt = opt[1..];

            if (IpSyntax.Matches(opt, "-loops"))
            {
                // ip's flush loop count (read with atoi): a value that does not change what netns does.
                if (++i >= args.Length) return UsageExit(out exit, i);
            }
            else if (IpSyntax.Matches(opt, "-family"))
            {
                // Not used by netns either, but checked as ip checks it (lib/utils.c read_family()).
                if (++i >= args.Length || args[i] == "help") return UsageExit(out exit, i);
                if (args[i] is not ("inet" or "inet6" or "link" or "mpls" or "bridge")) throw InvalidArgument("invalid protocol family", args[i]);
            }
            else if (opt is "-4" or "-6" or "-0" or "-D" or "-M" or "-B")
            {
            }
            else if (IpSyntax.Matches(opt, "-human") || IpSyntax.Matches(opt, "-human-readable") || IpSyntax.Matches(opt, "-iec") ||
                     IpSyntax.Matches(opt, "-stats") || IpSyntax.Matches(opt, "-statistics") || IpSyntax.Matches(opt, "-details") ||
                     IpSyntax.Matches(opt, "-resolve") || IpSyntax.Matches(opt, "-oneline") || IpSyntax.Matches(opt, "-timestamp") ||
                     IpSyntax.Matches(opt, "-tshort"))
            {
            }
            else if (IpSyntax.Matches(opt, "-Version"))
            {
                Stdio.Out($"netns utility, LinuxNetns-{LibraryVersion.Value}\n");
                exit = 0;
                return i;
            }
            else if (IpSyntax.Matches(opt, "-force"))
            {
                _force = true;
            }
            else if (IpSyntax.Matches(opt, "-batch"))
            {
                // ip prints its usage when the file name is missing.
                if (++i >= args.Length) return UsageExit(out exit, i);
                _batchFile = args[i];
            }
            else if (IpSyntax.Matches(opt, "-brief"))
            {
            }
            else if (IpSyntax.Matches(opt, "-json"))
            {
                _json = true;
            }
            else if (IpSyntax.Matches(opt, "-pretty"))
            {
                _pretty = true;
            }
            else if (IpSyntax.Matches(opt, "-rcvbuf"))
            {
                // After -resolve in ip's order: "-r" is -resolve, "-rc" is -rcvbuf. A socket size netns does not use.
                if (++i >= args.Length) return UsageExit(out exit, i);
                if (!IpSyntax.TryParseUnsigned(args[i], out _))
                {
                    Error($"Invalid rcvbuf size '{args[i]}'");
                    exit = UsageFailure;
                    return i;
                }
            }
            else if (IsColorOption(opt))
            {
            }
            else if (IpSyntax.Matches(opt, "-help"))
            {
                exit = PrintUsage();
                return i;
            }
            else if (IpSyntax.Matches(opt, "-netns"))
            {
                netnsOption = i;
                return i;
            }
            else if (IpSyntax.Matches(opt, "-Numeric"))
            {
            }
            else if (IpSyntax.Matches(opt, "-all"))
            {
                _all = true;
            }
            else
            {
                Error($"Option \"{opt}\" is unknown, try \"netns -help\".");
                exit = UsageFailure;
                return i;
            }
        }
        return i;
    }

    /// <summary>An option whose value is missing: ip prints its usage and exits 255.</summary>
    private static int UsageExit(out int? exit, int at)
    {
        exit = PrintUsage();
        return at;
    }

    // iproute2's matches_color(): -c[olor] with an optional =always|auto|never.
    private static bool IsColorOption(string opt)
    {
        int eq = opt.IndexOf('=');
        string name = eq < 0 ? opt : opt[..eq];
        return IpSyntax.Matches(name, "-color");
    }

    private int Dispatch(string[] args)
    {
        if (args.Length == 0) return List();

        // ipnetns.c checks the second word as a name before it even looks at the command. Like every usage error
        // it is an exit(-1) in ip, which ends a batch whatever -force says: thrown, not returned.
        if (!_all && args.Length > 1 && IpSyntax.IsInvalidName(args[1]))
        {
            Error($"Invalid netns name \"{args[1]}\"");
            throw new ExitException(UsageFailure);
        }

        string command = args[0];
        string[] rest = args[1..];
        if (IpSyntax.Matches(command, "list") || IpSyntax.Matches(command, "show") || IpSyntax.Matches(command, "lst")) return List();
        if (IpSyntax.Matches(command, "list-id")) return ListId(rest);
        if (IpSyntax.Matches(command, "help")) throw Help();
        if (IpSyntax.Matches(command, "add")) return Add(rest);
        if (IpSyntax.Matches(command, "set")) return Set(rest);
        if (IpSyntax.Matches(command, "delete")) return Delete(rest);
        if (IpSyntax.Matches(command, "identify")) return Identify(rest);
        if (IpSyntax.Matches(command, "pids")) return Pids(rest);
        if (IpSyntax.Matches(command, "exec")) return Exec(rest);
        if (IpSyntax.Matches(command, "monitor")) return Monitor();
        if (IpSyntax.Matches(command, "attach")) return Attach(rest);
        // Beyond ip netns (docs/netns-tool.md): matched last, so that no prefix of ip's commands changes meaning.
        // (A command added here goes into IsNetnsCommand too, so that a batch line may hold it alone.)
        if (IpSyntax.Matches(command, "discover")) return Discover(rest);
        if (IpSyntax.Matches(command, "completion")) return Completion(rest);

        Error($"Command \"{command}\" is unknown, try \"netns help\".");
        throw new ExitException(UsageFailure);
    }

    /// <summary>ipnetns.c's usage(): the usage on stderr, then exit(-1).</summary>
    private static ExitException Help() => new(PrintUsage());

    private static int PrintUsage()
    {
        Error(
            "Usage:\tnetns list\n" +
            "\tnetns add NAME\n" +
            "\tnetns attach NAME PID\n" +
            "\tnetns set NAME NETNSID\n" +
            "\tnetns [-all] delete [NAME]\n" +
            "\tnetns identify [PID]\n" +
            "\tnetns pids NAME\n" +
            "\tnetns [-all] exec [NAME] cmd ...\n" +
            "\tnetns monitor\n" +
            "\tnetns list-id [target-nsid POSITIVE-INT] [nsid POSITIVE-INT]\n" +
            "\tnetns [-j] discover\n" +
            "\tnetns [-force] -batch FILE\n" +
            "\tnetns completion bash\n" +
            "NETNSID := auto | POSITIVE-INT\n" +
            "OPTIONS := { -j[son] | -p[retty] | -a[ll] | -n[etns] NAME | -V[ersion] }");
        return UsageFailure;
    }

    // ---- output helpers ---------------------------------------------------------------------------

    private static void Out(string line) => Stdio.Out(line + "\n");

    private static void Error(string line) => Stdio.Error(line + "\n");

    /// <summary>glibc's strerror text, as iproute2 prints it.</summary>
    private static string StrError(Errno errno) => Marshal.GetPInvokeErrorMessage((int)errno);

    /// <summary>An exception's errno as strerror text; errors without errno (a file that is no namespace) read as EINVAL, what setns says.</summary>
    private static string StrError(NetworkNamespaceException e) => StrError(e.Errno != Errno.None ? e.Errno : Errno.EINVAL);

    private static ExitException Usage()
    {
        Error("Command line is not complete. Try option \"help\"");
        return new ExitException(UsageFailure);
    }

    /// <summary>iproute2's invarg(): "Error: argument "X" is wrong: WHY", exit 255.</summary>
    private static ExitException InvalidArgument(string why, string? argument)
    {
        Error($"Error: argument \"{argument ?? "(null)"}\" is wrong: {why}");
        return new ExitException(UsageFailure);
    }

    /// <summary>iproute2's duparg(): "Error: duplicate "KEY": "X" is the second value.", exit 255.</summary>
    private static ExitException DuplicateArgument(string key, string argument)
    {
        Error($"Error: duplicate \"{key}\": \"{argument}\" is the second value.");
        return new ExitException(UsageFailure);
    }
}

/// <summary>Ends the command with an exit code, after its message was printed.</summary>
internal sealed class ExitException(int code) : Exception($"exit {code}")
{
    public int Code { get; } = code;
}
