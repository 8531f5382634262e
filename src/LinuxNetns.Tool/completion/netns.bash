# bash completion for netns, `ip netns` on LinuxNetns                 -*- shell-script -*-
# Print it with `netns completion bash`; install: docs/netns-tool.md, "Shell completion".
# Works with and without the bash-completion package: its helpers are used only where they are defined.

# The commands in the order netns matches a prefix against them (iproute2's, then the tool's own).
_netns_commands=(list show lst list-id help add set delete identify pids exec monitor attach discover completion)

# The full command a prefix stands for ("d" is delete, "at" attach), or nothing.
_netns_command()
{
    local word=$1 c
    [[ -n $word ]] || return 1
    for c in "${_netns_commands[@]}"; do
        if [[ $c == "$word"* ]]; then
            case $c in
                show | lst) c=list ;;
            esac
            printf '%s' "$c"
            return 0
        fi
    done
    return 1
}

# Sets _netns_word (the caller's local) to what a typed word means: `a\ b`, 'a b and "a b all stand for "a b".
_netns_unquote()
{
    local s=$1 i c
    _netns_word=
    case $s in
        \'*) s=${s#\'}; _netns_word=${s%\'} ;;
        \"*) s=${s#\"}; _netns_word=${s%\"} ;;
        *)
            for ((i = 0; i < ${#s}; i++)); do
                c=${s:i:1}
                if [[ $c == \\ ]]; then
                    ((i++))
                    c=${s:i:1}
                fi
                _netns_word+=$c
            done
            ;;
    esac
}

# Adds the names in the run directory that start with the word being completed, quoted for the command line
# (names may hold spaces or quotes). The directory is read, not `netns list`: no .NET start-up, no root needed.
_netns_names()
{
    local dir=/run/netns path name quoted= _netns_word
    [[ -d $dir ]] || return 0
    _netns_unquote "$1"
    [[ $1 == [\'\"]* ]] && quoted=1
    # Dot names count too (ip lists them); the user's glob options are given back afterwards.
    local restore
    restore=$(shopt -p nullglob dotglob failglob nocaseglob)
    shopt -s nullglob dotglob
    shopt -u failglob nocaseglob
    for path in "$dir"/*; do
        name=${path#"$dir"/}
        [[ $name == "$_netns_word"* ]] || continue
        if [[ -n $quoted ]]; then
            COMPREPLY+=("$name")
        else
            printf -v name '%q' "$name"
            COMPREPLY+=("$name")
        fi
    done
    eval "$restore"
}

# Adds the pids of the running processes.
_netns_pids()
{
    local path pids=()
    for path in /proc/[0-9]*; do
        [[ -d $path ]] && pids+=("${path#/proc/}")
    done
    COMPREPLY+=($(compgen -W "${pids[*]}" -- "$1"))
}

# Adds the files that start with the word being completed.
_netns_files()
{
    if declare -F _filedir >/dev/null; then
        _filedir
    else
        compopt -o filenames 2>/dev/null
        local IFS=$'\n'
        COMPREPLY+=($(compgen -f -- "$1"))
    fi
}

# The command line from word $1 on, completed as a command of its own (what follows `exec NAME`).
_netns_command_line()
{
    local offset=$1
    if declare -F _comp_command_offset >/dev/null; then
        _comp_command_offset "$offset"
    elif declare -F _command_offset >/dev/null; then
        _command_offset "$offset"
    elif ((cword == offset)); then
        local IFS=$'\n'
        COMPREPLY=($(compgen -c -- "$cur"))
    else
        _netns_files "$cur"
    fi
}

_netns()
{
    local cur prev words cword
    COMPREPLY=()
    if declare -F _init_completion >/dev/null; then
        _init_completion || return
    else
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${COMP_WORDS[COMP_CWORD]}
    fi

    # The options before the command, as netns parses them: "--" ends them, "--x" is "-x", prefixes in ip's order.
    local i=1 opt all=
    while ((i < cword)); do
        opt=${words[i]}
        if [[ $opt == = ]]; then
            # -color=WHEN, which the shell splits at "=".
            if ((i + 1 == cword)); then
                COMPREPLY=($(compgen -W 'always auto never' -- "$cur"))
                return 0
            fi
            ((i += 2))
            continue
        fi
        [[ $opt == --?* ]] && opt=${opt#-}
        if [[ $opt == -- ]]; then
            ((i++))
            break
        fi
        [[ $opt == -* ]] || break
        case $opt in
            -n | -ne | -net | -netn | -netns | -b | -ba | -bat | -batc | -batch)
                # The value is the word after: complete it, or step over it.
                if ((i + 1 == cword)); then
                    case $opt in
                        -n*) _netns_names "$cur" ;;
                        *) _netns_files "$cur" ;;
                    esac
                    return 0
                fi
                ((i++))
                ;;
            -l | -lo | -loo | -loop | -loops | -f | -fa | -fam | -fami | -famil | -family | -rc | -rcv | -rcvb | -rcvbu | -rcvbuf)
                ((i + 1 == cword)) && return 0
                ((i++))
                ;;
            -a | -al | -all) all=1 ;;
        esac
        ((i++))
    done

    if ((i == cword)); then
        if [[ $cur == -* && ${words[i - 1]} != -- ]]; then
            local options='-json -pretty -all -Version -help -netns -batch -force'
            # "--json" is "-json": offer the spelling begun.
            [[ $cur == --* ]] && options=${options//-/--}
            COMPREPLY=($(compgen -W "$options" -- "$cur"))
        else
            COMPREPLY=($(compgen -W 'list add attach set delete identify pids exec monitor list-id discover completion help' -- "$cur"))
        fi
        return 0
    fi

    local command arg=$((cword - i - 1))
    command=$(_netns_command "${words[i]}") || return 0
    case $command in
        delete | pids)
            ((arg == 0)) && [[ -z $all ]] && _netns_names "$cur"
            ;;
        set)
            case $arg in
                0) _netns_names "$cur" ;;
                1) COMPREPLY=($(compgen -W 'auto' -- "$cur")) ;;
            esac
            ;;
        attach)
            case $arg in
                0) _netns_names "$cur" ;;
                1) _netns_pids "$cur" ;;
            esac
            ;;
        identify)
            ((arg == 0)) && _netns_pids "$cur"
            ;;
        exec)
            if [[ -n $all ]]; then
                _netns_command_line $((i + 1))
            elif ((arg == 0)); then
                _netns_names "$cur"
            else
                _netns_command_line $((i + 2))
            fi
            ;;
        list-id)
            # Pairs of KEY VALUE; offer the keys not given yet.
            if ((arg % 2 == 0)); then
                local key keys=()
                for key in target-nsid nsid; do
                    local j given=
                    for ((j = i + 1; j < cword; j += 2)); do
                        [[ ${words[j]} == "$key" ]] && given=1
                    done
                    [[ -z $given ]] && keys+=("$key")
                done
                COMPREPLY=($(compgen -W "${keys[*]}" -- "$cur"))
            fi
            ;;
        completion)
            ((arg == 0)) && COMPREPLY=($(compgen -W 'bash' -- "$cur"))
            ;;
    esac
    return 0
}

complete -F _netns netns
