using Netns;

// netns: `ip netns` on top of the LinuxNetns library. Same commands, stdout and exit codes as iproute2.
return await NetnsCli.RunAsync(args).ConfigureAwait(false);
