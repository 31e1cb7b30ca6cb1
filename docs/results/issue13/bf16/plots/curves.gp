set terminal pngcairo noenhanced font 'sans,10' size 1499,450
set grid
set key outside right top
set output 'curves.png'
set xtics 1
set multiplot layout 1,3 title 'Training curves per run' margins 0.06,0.814,0.133,0.822 spacing 0.07,0.12
set xlabel 'epoch'
set key off
set title "test accuracy [%]"
set ylabel "test accuracy [%]"
plot 'curves.dat' index 0 using 1:2 with linespoints pointsize 0.6 title "float seed=0 bf16", \
     'curves.dat' index 1 using 1:2 with linespoints pointsize 0.6 title "float seed=0 float32", \
     'curves.dat' index 2 using 1:2 with linespoints pointsize 0.6 title "float seed=1 bf16", \
     'curves.dat' index 3 using 1:2 with linespoints pointsize 0.6 title "float seed=1 float32", \
     'curves.dat' index 4 using 1:2 with linespoints pointsize 0.6 title "M_w=15 M_a=8 seed=0 bf16", \
     'curves.dat' index 5 using 1:2 with linespoints pointsize 0.6 title "M_w=15 M_a=8 seed=0 float32", \
     'curves.dat' index 6 using 1:2 with linespoints pointsize 0.6 title "M_w=15 M_a=8 seed=1 bf16", \
     'curves.dat' index 7 using 1:2 with linespoints pointsize 0.6 title "M_w=15 M_a=8 seed=1 float32"
set title "training loss (Eq. 9)"
set ylabel "training loss (Eq. 9)"
plot 'curves.dat' index 0 using 1:3 with linespoints pointsize 0.6 title "float seed=0 bf16", \
     'curves.dat' index 1 using 1:3 with linespoints pointsize 0.6 title "float seed=0 float32", \
     'curves.dat' index 2 using 1:3 with linespoints pointsize 0.6 title "float seed=1 bf16", \
     'curves.dat' index 3 using 1:3 with linespoints pointsize 0.6 title "float seed=1 float32", \
     'curves.dat' index 4 using 1:3 with linespoints pointsize 0.6 title "M_w=15 M_a=8 seed=0 bf16", \
     'curves.dat' index 5 using 1:3 with linespoints pointsize 0.6 title "M_w=15 M_a=8 seed=0 float32", \
     'curves.dat' index 6 using 1:3 with linespoints pointsize 0.6 title "M_w=15 M_a=8 seed=1 bf16", \
     'curves.dat' index 7 using 1:3 with linespoints pointsize 0.6 title "M_w=15 M_a=8 seed=1 float32"
set title "test loss (Eq. 9)"
set ylabel "test loss (Eq. 9)"
set key at screen 0.995,0.822 right top
plot 'curves.dat' index 0 using 1:4 with linespoints pointsize 0.6 title "float seed=0 bf16", \
     'curves.dat' index 1 using 1:4 with linespoints pointsize 0.6 title "float seed=0 float32", \
     'curves.dat' index 2 using 1:4 with linespoints pointsize 0.6 title "float seed=1 bf16", \
     'curves.dat' index 3 using 1:4 with linespoints pointsize 0.6 title "float seed=1 float32", \
     'curves.dat' index 4 using 1:4 with linespoints pointsize 0.6 title "M_w=15 M_a=8 seed=0 bf16", \
     'curves.dat' index 5 using 1:4 with linespoints pointsize 0.6 title "M_w=15 M_a=8 seed=0 float32", \
     'curves.dat' index 6 using 1:4 with linespoints pointsize 0.6 title "M_w=15 M_a=8 seed=1 bf16", \
     'curves.dat' index 7 using 1:4 with linespoints pointsize 0.6 title "M_w=15 M_a=8 seed=1 float32"
unset multiplot
