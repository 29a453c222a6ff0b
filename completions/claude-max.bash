# Generated from the claude-max app by `python -m claude_max.completions`; do not edit.
_claude_max_completion() {
    local IFS=$'
'
    COMPREPLY=( $( env COMP_WORDS="${COMP_WORDS[*]}" \
                   COMP_CWORD=$COMP_CWORD \
                   _CLAUDE_MAX_COMPLETE=complete_bash $1 ) )
    return 0
}

complete -o default -F _claude_max_completion claude-max
