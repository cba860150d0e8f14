from sci.cli import main

main()
