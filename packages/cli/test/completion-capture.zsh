# zsh -f completion-capture.zsh SCRIPT LINE...: types each LINE and Tab into one real interactive zsh
# (in a pseudo-terminal, zsh/zpty) with compinit, and prints each match the completion system adds,
# one per line, then <end> for that LINE. SCRIPT is a directory to put in $fpath (holding
# _akamu-cli) or a file to source after compinit.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
if [[ -d $1 ]]; then
  setup="fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -D"
else
  setup="autoload -Uz compinit; compinit -u -D; source ${(q)1}"
fi
zpty -w z "PS1=''; RPS1=''; $setup"
# every compadd that adds matches prints them first, one per line, after a <m> mark
zpty -w z 'compadd() { if [[ ${@[(I)-[OAD]]} -ne 0 ]]; then builtin compadd "$@"; return; fi; local -a __m; builtin compadd -O __m "$@"; print -rl -- "<m>"${^__m}; builtin compadd "$@"; }'
# Tab completes, then prints a mark: the next keys are typed only once the completion is over
zpty -w z "zstyle ':completion:*' list-grouped false; zstyle ':completion:*' insert-tab false"
zpty -w z 'function tab-then-mark { zle complete-word; print -r -- "<tab$((6*7))>" >/dev/tty }; zle -N tab-then-mark; bindkey "^I" tab-then-mark'
zpty -w z 'print -r -- "<ready$((6*7))>"'
local line
integer n=0
# zle drops what was typed ahead of its prompt: type the line only once the set-up has run
while (( n++ < 5000 )) && zpty -r z line; do [[ $line == *'<ready42>'* ]] && break; done
for typed in "${@[2,-1]}"; do
  zpty -w -n z "$typed"$'\t'
  integer tabbed=0
  while (( n++ < 100000 )) && zpty -r z line; do
    if (( ! tabbed )) && [[ $line == *'<tab42>'* && $line != *'tab-then-mark'* ]]; then
      tabbed=1
      zpty -w -n z $'\C-u'
      zpty -w z 'print -r -- "<end$((6*7))>"'
      continue
    fi
    (( tabbed )) && [[ $line == *'<end42>'* ]] && { print -r -- '<end>'; break; }
    # the first match shares its line with what zle drew; the echo of the compadd definition is no match
    [[ $line == *'<m>'* && $line != *'compadd()'* ]] && print -r -- "${${line##*<m>}%%$'\r'*}"
  done
done
zpty -d z
