# zsh -f complete.zsh SCRIPT OUT LINE
# Loads the completion script SCRIPT into an interactive zsh on a pseudo-terminal (zsh/zpty),
# types LINE and a TAB, and appends every candidate the completion offers to OUT, one a line,
# then `<done>`. Exits 3 when this zsh has no zsh/zpty; gives up after 10 seconds.
zmodload zsh/zpty 2>/dev/null || { print -u2 'this zsh has no zsh/zpty module'; exit 3 }
script=$1 out=$2 line=$3
zpty complete zsh -f -i || exit 3
zpty -w complete "PROMPT=''; autoload -U compinit; compinit -u -D; source ${(q)script}"
# Every compadd that adds matches also writes them to OUT; the last completion hook marks the end.
zpty -w complete "compadd() { if (( ! \${@[(I)-[OAD]]} )); then local -a hits; builtin compadd -A hits \"\$@\"; print -rl -- \$hits >> ${(q)out}; fi; builtin compadd \"\$@\"; }"
zpty -w complete "comppostfuncs=(finished); finished() { print -r -- '<done>' >> ${(q)out}; }"
zpty -w -n complete "$line"$'\t'
repeat 200; do
  [[ -f $out ]] && grep -qx '<done>' $out && break
  sleep 0.05
done
zpty -d complete
