from digigov.cli import main

main()
