set terminal pngcairo noenhanced font 'sans,10' size 1457,460
set grid
set key outside right top
set output 'curves.png'
set xtics 1
set multiplot layout 1,3 title 'Training curves per run' margins 0.06,0.838,0.130,0.826 spacing 0.07,0.12
set xlabel 'epoch'
set key off
set title "test accuracy [%]"
set ylabel "test accuracy [%]"
plot 'curves.dat' index 0 using 1:2 with linespoints pointsize 0.6 title "M_a=2 seed=0 centered", \
     'curves.dat' index 1 using 1:2 with linespoints pointsize 0.6 title "M_a=2 seed=1 centered", \
     'curves.dat' index 2 using 1:2 with linespoints pointsize 0.6 title "M_a=2 seed=2 centered", \
     'curves.dat' index 3 using 1:2 with linespoints pointsize 0.6 title "M_a=2 seed=3 centered", \
     'curves.dat' index 4 using 1:2 with linespoints pointsize 0.6 title "M_a=2 seed=4 centered", \
     'curves.dat' index 5 using 1:2 with linespoints pointsize 0.6 title "M_a=4 seed=0 centered", \
     'curves.dat' index 6 using 1:2 with linespoints pointsize 0.6 title "M_a=4 seed=1 centered", \
     'curves.dat' index 7 using 1:2 with linespoints pointsize 0.6 title "M_a=4 seed=2 centered", \
     'curves.dat' index 8 using 1:2 with linespoints pointsize 0.6 title "M_a=4 seed=3 centered", \
     'curves.dat' index 9 using 1:2 with linespoints pointsize 0.6 title "M_a=4 seed=4 centered", \
     'curves.dat' index 10 using 1:2 with linespoints pointsize 0.6 title "M_a=8 seed=0 centered", \
     'curves.dat' index 11 using 1:2 with linespoints pointsize 0.6 title "M_a=8 seed=1 centered", \
     'curves.dat' index 12 using 1:2 with linespoints pointsize 0.6 title "M_a=8 seed=2 centered", \
     'curves.dat' index 13 using 1:2 with linespoints pointsize 0.6 title "M_a=8 seed=3 centered", \
     'curves.dat' index 14 using 1:2 with linespoints pointsize 0.6 title "M_a=8 seed=4 centered", \
     'curves.dat' index 15 using 1:2 with linespoints pointsize 0.6 title "M_a=4 seed=0 zero", \
     'curves.dat' index 16 using 1:2 with linespoints pointsize 0.6 title "M_a=4 seed=1 zero", \
     'curves.dat' index 17 using 1:2 with linespoints pointsize 0.6 title "M_a=4 seed=2 zero", \
     'curves.dat' index 18 using 1:2 with linespoints pointsize 0.6 title "M_a=4 seed=3 zero", \
     'curves.dat' index 19 using 1:2 with linespoints pointsize 0.6 title "M_a=4 seed=4 zero"
set title "training loss (Eq. 9)"
set ylabel "training loss (Eq. 9)"
plot 'curves.dat' index 0 using 1:3 with linespoints pointsize 0.6 title "M_a=2 seed=0 centered", \
     'curves.dat' index 1 using 1:3 with linespoints pointsize 0.6 title "M_a=2 seed=1 centered", \
     'curves.dat' index 2 using 1:3 with linespoints pointsize 0.6 title "M_a=2 seed=2 centered", \
     'curves.dat' index 3 using 1:3 with linespoints pointsize 0.6 title "M_a=2 seed=3 centered", \
     'curves.dat' index 4 using 1:3 with linespoints pointsize 0.6 title "M_a=2 seed=4 centered", \
     'curves.dat' index 5 using 1:3 with linespoints pointsize 0.6 title "M_a=4 seed=0 centered", \
     'curves.dat' index 6 using 1:3 with linespoints pointsize 0.6 title "M_a=4 seed=1 centered", \
     'curves.dat' index 7 using 1:3 with linespoints pointsize 0.6 title "M_a=4 seed=2 centered", \
     'curves.dat' index 8 using 1:3 with linespoints pointsize 0.6 title "M_a=4 seed=3 centered", \
     'curves.dat' index 9 using 1:3 with linespoints pointsize 0.6 title "M_a=4 seed=4 centered", \
     'curves.dat' index 10 using 1:3 with linespoints pointsize 0.6 title "M_a=8 seed=0 centered", \
     'curves.dat' index 11 using 1:3 with linespoints pointsize 0.6 title "M_a=8 seed=1 centered", \
     'curves.dat' index 12 using 1:3 with linespoints pointsize 0.6 title "M_a=8 seed=2 centered", \
     'curves.dat' index 13 using 1:3 with linespoints pointsize 0.6 title "M_a=8 seed=3 centered", \
     'curves.dat' index 14 using 1:3 with linespoints pointsize 0.6 title "M_a=8 seed=4 centered", \
     'curves.dat' index 15 using 1:3 with linespoints pointsize 0.6 title "M_a=4 seed=0 zero", \
     'curves.dat' index 16 using 1:3 with linespoints pointsize 0.6 title "M_a=4 seed=1 zero", \
     'curves.dat' index 17 using 1:3 with linespoints pointsize 0.6 title "M_a=4 seed=2 zero", \
     'curves.dat' index 18 using 1:3 with linespoints pointsize 0.6 title "M_a=4 seed=3 zero", \
     'curves.dat' index 19 using 1:3 with linespoints pointsize 0.6 title "M_a=4 seed=4 zero"
set title "test loss (Eq. 9)"
set ylabel "test loss (Eq. 9)"
set key at screen 0.995,0.826 right top
plot 'curves.dat' index 0 using 1:4 with linespoints pointsize 0.6 title "M_a=2 seed=0 centered", \
     'curves.dat' index 1 using 1:4 with linespoints pointsize 0.6 title "M_a=2 seed=1 centered", \
     'curves.dat' index 2 using 1:4 with linespoints pointsize 0.6 title "M_a=2 seed=2 centered", \
     'curves.dat' index 3 using 1:4 with linespoints pointsize 0.6 title "M_a=2 seed=3 centered", \
     'curves.dat' index 4 using 1:4 with linespoints pointsize 0.6 title "M_a=2 seed=4 centered", \
     'curves.dat' index 5 using 1:4 with linespoints pointsize 0.6 title "M_a=4 seed=0 centered", \
     'curves.dat' index 6 using 1:4 with linespoints pointsize 0.6 title "M_a=4 seed=1 centered", \
     'curves.dat' index 7 using 1:4 with linespoints pointsize 0.6 title "M_a=4 seed=2 centered", \
     'curves.dat' index 8 using 1:4 with linespoints pointsize 0.6 title "M_a=4 seed=3 centered", \
     'curves.dat' index 9 using 1:4 with linespoints pointsize 0.6 title "M_a=4 seed=4 centered", \
     'curves.dat' index 10 using 1:4 with linespoints pointsize 0.6 title "M_a=8 seed=0 centered", \
     'curves.dat' index 11 using 1:4 with linespoints pointsize 0.6 title "M_a=8 seed=1 centered", \
     'curves.dat' index 12 using 1:4 with linespoints pointsize 0.6 title "M_a=8 seed=2 centered", \
     'curves.dat' index 13 using 1:4 with linespoints pointsize 0.6 title "M_a=8 seed=3 centered", \
     'curves.dat' index 14 using 1:4 with linespoints pointsize 0.6 title "M_a=8 seed=4 centered", \
     'curves.dat' index 15 using 1:4 with linespoints pointsize 0.6 title "M_a=4 seed=0 zero", \
     'curves.dat' index 16 using 1:4 with linespoints pointsize 0.6 title "M_a=4 seed=1 zero", \
     'curves.dat' index 17 using 1:4 with linespoints pointsize 0.6 title "M_a=4 seed=2 zero", \
     'curves.dat' index 18 using 1:4 with linespoints pointsize 0.6 title "M_a=4 seed=3 zero", \
     'curves.dat' index 19 using 1:4 with linespoints pointsize 0.6 title "M_a=4 seed=4 zero"
unset multiplot
